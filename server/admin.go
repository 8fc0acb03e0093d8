package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
)

// The maintenance routes run the engine's background work now, for
// operators and tools (eventlog compact and retention --url):
//
//	POST /api/_roll                  seal the head now
//	POST /api/_compact               DB.Compact
//	POST /api/_retention             DB.ApplyRetention; ?dry_run=true: DB.PlanRetention
//	POST /api/_compaction/_pause     DB.PauseCompaction
//	POST /api/_compaction/_resume    DB.ResumeCompaction
//
// The first three take ?timeout=DURATION (default Config.RequestTimeout):
// the work stops there and the answer is 503, saying what was done.

// rollAnswer is the body of POST /api/_roll.
type rollAnswer struct {
	// HeadEvents is how many events the heads held before the roll.
	HeadEvents     int `json:"head_events"`
	SegmentsBefore int `json:"segments_before"`
	SegmentsAfter  int `json:"segments_after"`
	// New lists the live segments that were not live before: those the
	// roll sealed (and any a concurrent compaction wrote).
	New []eventlog.SegmentInfo `json:"new_segments"`
}

// retentionAnswer is the body of POST /api/_retention: what was dropped,
// or with dry_run what would be.
type retentionAnswer struct {
	DryRun         bool                      `json:"dry_run"`
	Dropped        []eventlog.DroppedSegment `json:"dropped"`
	BytesReclaimed int64                     `json:"bytes_reclaimed"`
	// Held lists the expired segments incident holds kept, HeldBytes
	// their size (omitted when none).
	Held      []eventlog.DroppedSegment `json:"held,omitempty"`
	HeldBytes int64                     `json:"held_bytes,omitempty"`
}

// pauseAnswer is the body of the _pause and _resume routes.
type pauseAnswer struct {
	CompactionPaused bool `json:"compaction_paused"`
}

// handleRoll answers POST /api/_roll.
func (s *Server) handleRoll(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel, err := s.adminContext(w, r, nil)
	if err != nil {
		return err
	}
	defer cancel()
	before := s.db.Segments()
	ans := rollAnswer{HeadEvents: s.db.Stats().HeadEvents, SegmentsBefore: len(before)}
	if err := s.db.Roll(ctx); err != nil {
		return err
	}
	after := s.db.Segments()
	ans.SegmentsAfter = len(after)
	ans.New = newSegments(before, after)
	return writeValue(w, http.StatusOK, ans)
}

// newSegments returns the segments of after that are not in before.
func newSegments(before, after []eventlog.SegmentInfo) []eventlog.SegmentInfo {
	out := []eventlog.SegmentInfo{}
	for _, a := range after {
		if !slices.ContainsFunc(before, func(b eventlog.SegmentInfo) bool { return b.Name == a.Name }) {
			out = append(out, a)
		}
	}
	return out
}

// handleCompact answers POST /api/_compact with the CompactResult.
func (s *Server) handleCompact(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel, err := s.adminContext(w, r, nil)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := s.db.Compact(ctx)
	if err != nil {
		return stoppedEarly(err, "compaction", "%d merges (%d segments into %d, %d events) were done",
			res.Merges, res.Inputs, res.Outputs, res.Events)
	}
	return writeValue(w, http.StatusOK, res)
}

// handleRetention answers POST /api/_retention[?dry_run=true].
func (s *Server) handleRetention(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel, err := s.adminContext(w, r, []string{"dry_run"})
	if err != nil {
		return err
	}
	defer cancel()
	dry, err := boolParam(r.URL.Query(), "dry_run")
	if err != nil {
		return err
	}
	ans := retentionAnswer{DryRun: dry}
	var res eventlog.RetentionResult
	if dry {
		if res, err = s.db.RetentionPlan(); err != nil {
			return err
		}
	} else {
		res, err = s.db.ApplyRetention(ctx)
		if err != nil {
			return stoppedEarly(err, "retention", "%d segments (%d bytes) were dropped", len(res.Dropped), res.BytesReclaimed)
		}
	}
	ans.Dropped, ans.BytesReclaimed, ans.Held, ans.HeldBytes = res.Dropped, res.BytesReclaimed, res.Held, res.HeldBytes
	if ans.Dropped == nil {
		ans.Dropped = []eventlog.DroppedSegment{}
	}
	return writeValue(w, http.StatusOK, ans)
}

// handlePause answers POST /api/_compaction/_pause.
func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, true)
}

// handleResume answers POST /api/_compaction/_resume.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	if err := checkParams(r.URL.Query(), nil); err != nil {
		return err
	}
	if paused {
		s.db.PauseCompaction()
	} else {
		s.db.ResumeCompaction()
	}
	return writeValue(w, http.StatusOK, pauseAnswer{CompactionPaused: s.db.Stats().Maintenance.CompactionPaused})
}

// adminContext checks a maintenance request's parameters (timeout and
// those in extra) and returns the context its work runs under: the
// request's, ending after ?timeout= or Config.RequestTimeout. A timeout
// longer than RequestTimeout moves the answer's write deadline with it.
func (s *Server) adminContext(w http.ResponseWriter, r *http.Request, extra []string) (context.Context, context.CancelFunc, error) {
	q := r.URL.Query()
	if err := checkParams(q, append([]string{"timeout"}, extra...)); err != nil {
		return nil, nil, err
	}
	timeout := s.cfg.RequestTimeout
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, nil, errorf(http.StatusBadRequest, typeInvalidRequest,
				"timeout %q: want a positive duration, such as 30s or 10m", v)
		}
		timeout = d
		if d > s.cfg.RequestTimeout {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + 10*time.Second))
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

// checkParams rejects query parameters not in allowed, and any given twice.
func checkParams(q url.Values, allowed []string) error {
	for name, vals := range q {
		if !slices.Contains(allowed, name) {
			takes := "none"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return errorf(http.StatusBadRequest, typeInvalidRequest,
				"unknown query parameter %q (this route takes: %s)", name, takes)
		}
		if len(vals) > 1 {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "query parameter %q is given %d times", name, len(vals))
		}
	}
	return nil
}

// boolParam reads a true/false parameter: absent is false, present
// without a value (?dry_run) true.
func boolParam(q url.Values, name string) (bool, error) {
	vals, ok := q[name]
	if !ok {
		return false, nil
	}
	if vals[0] == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(vals[0])
	if err != nil {
		return false, errorf(http.StatusBadRequest, typeInvalidRequest, "%s %q: want true or false", name, vals[0])
	}
	return b, nil
}

// stoppedEarly is the answer of maintenance work that failed part way: a
// timeout is 503 saying what was done before it; other errors as usual.
func stoppedEarly(err error, what, doneFormat string, args ...any) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := errorf(http.StatusServiceUnavailable, typeUnavailable, what+" timed out; "+doneFormat, args...)
	e.cause = err
	return e
}
