package eventlog

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/retention"
)

// expired reports whether retention expires ev at now: a held event never
// expires, wherever the rule is applied (reads, tails, compaction).
func (db *DB) expired(ev *event.Event, now time.Time) bool {
	return db.retention.Load().expired(ev, now) && !db.liveHolds().holds(ev)
}

// holdQueryOptions lets reads see the held events retention would hide:
// nothing is skipped wholesale below the earliest hold's start any more,
// and the events retention hides (by age or by a rule) are asked one by
// one whether a hold pins them.
func holdQueryOptions(opts *query.Options, hs holdSet) {
	cut, rule := opts.ExpiredBefore, opts.Expired
	wholesale := cut != 0 && cut != math.MinInt64
	if len(hs) == 0 || (!wholesale && rule == nil) {
		return
	}
	if wholesale {
		opts.ExpiredBefore = min(cut, hs.minStart())
		opts.MaybeExpiredBefore = max(opts.MaybeExpiredBefore, cut)
	}
	opts.Expired = func(ev *event.Event) bool {
		gone := (wholesale && ev.Timestamp.UnixNano() < cut) || (rule != nil && rule(ev))
		return gone && !hs.holds(ev)
	}
	opts.ExpiredFields = append(slices.Clip(opts.ExpiredFields), hs.fields()...)
}

// segmentHeld reports whether a hold of hs (the holds of generation gen)
// pins an event of s: only segments whose time range meets a hold's window
// are read, only until the first held event, and once per generation.
func segmentHeld(s *liveSegment, hs holdSet, gen uint64) (bool, error) {
	if s.heldGen.Load() == gen+1 {
		return s.held.Load(), nil
	}
	held, err := readHeld(s, hs)
	if err == nil {
		s.held.Store(held)
		s.heldGen.Store(gen + 1)
	}
	return held, err
}

// readHeld is segmentHeld without its cache.
func readHeld(s *liveSegment, hs holdSet) (bool, error) {
	var near holdSet
	for _, h := range hs {
		if h.overlaps(s.meta.MinTS, s.meta.MaxTS) {
			near = append(near, h)
		}
	}
	if len(near) == 0 {
		return false, nil
	}
	err := s.r.Each(func(_ uint64, ev *event.Event) error {
		if near.holds(ev) {
			return errHeldFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errHeldFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("segment %s: %w", s.meta.Name, err)
	}
	return false, nil
}

var errHeldFound = errors.New("held event found")

// HoldStats is the disk cost of the incident holds, as found by the last
// retention run or plan (holds are checked against segments only then:
// reading segments on every Stats call would cost too much).
type HoldStats struct {
	// Holds is how many holds are in force now.
	Holds int `json:"holds"`
	// Segments and Bytes are the live segments holding a held event and
	// their size: what the holds keep on disk.
	Segments int   `json:"segments"`
	Bytes    int64 `json:"bytes"`
	// OverMaxBytes is how far the store stays above RetentionMaxBytes
	// because retention may not drop held segments (0: within the bound,
	// or no bound).
	OverMaxBytes int64 `json:"over_max_bytes"`
}

// noteHeld records for Stats what the holds keep, from a retention plan
// over segs (walBytes being the rest of the store).
func (db *DB) noteHeld(segs []retention.Segment, drops []retention.Drop, walBytes int64) {
	var n int
	var held, total int64 = 0, walBytes
	for _, s := range segs {
		total += s.Bytes
		if s.Held {
			n, held = n+1, held+s.Bytes
		}
	}
	for _, d := range drops {
		if !d.Held {
			total -= d.Bytes
		}
	}
	var over int64
	if b := db.opts.RetentionMaxBytes; b > 0 && total > b {
		over = min(total-b, held)
	}
	db.heldSegments.Store(int64(n))
	db.heldBytes.Store(held)
	db.heldOver.Store(over)
}

// holdStats returns the holds' part of Stats.
func (db *DB) holdStats() HoldStats {
	return HoldStats{Holds: len(db.liveHolds()), Segments: int(db.heldSegments.Load()), Bytes: db.heldBytes.Load(), OverMaxBytes: db.heldOver.Load()}
}
