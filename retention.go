package eventlog

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/retention"
)

// Internal records: the store writes events about itself under this
// provider, so an audit of the audit log is possible.
const (
	InternalProvider    = "eventlog"
	ActionRetentionDrop = "retention-drop"
)

// RetentionResult lists the segments a retention run dropped (or, in a
// plan, would drop) and those incident holds kept.
type RetentionResult struct {
	Dropped []DroppedSegment `json:"dropped"`
	// BytesReclaimed is their size on disk.
	BytesReclaimed int64 `json:"bytes_reclaimed"`
	// Held lists the expired segments kept because a hold pins one of
	// their events (Reason says which rule expired them), HeldBytes their
	// size. Omitted when no hold kept anything.
	Held      []DroppedSegment `json:"held,omitempty"`
	HeldBytes int64            `json:"held_bytes,omitempty"`
}

// DroppedSegment is one segment retention dropped (or, in a plan, would).
type DroppedSegment struct {
	SegmentInfo
	// Reason is "max_age" or "max_bytes".
	Reason string `json:"reason"`
	// Undelivered: MaxBytes forced out events a consumer (a destination)
	// had not yet taken.
	Undelivered bool `json:"undelivered,omitempty"`
}

// PlanRetention returns what ApplyRetention would drop now, changing
// nothing; RetentionPlan also says what holds keep.
func (db *DB) PlanRetention() ([]DroppedSegment, error) {
	res, err := db.RetentionPlan()
	return res.Dropped, err
}

// RetentionPlan returns what ApplyRetention would drop now and what
// incident holds keep, changing nothing.
func (db *DB) RetentionPlan() (RetentionResult, error) {
	var res RetentionResult
	drops, err := db.retentionPlan()
	if err != nil {
		return res, fmt.Errorf("eventlog: retention: %w", err)
	}
	for _, d := range drops {
		ds := DroppedSegment{SegmentInfo: segmentInfo(d.Name, d.Events, d.Bytes, d.MinTS, d.MaxTS, d.MinSeq, d.MaxSeq), Reason: d.Reason, Undelivered: d.Undelivered}
		if d.Held {
			res.Held, res.HeldBytes = append(res.Held, ds), res.HeldBytes+d.Bytes
		} else {
			res.Dropped, res.BytesReclaimed = append(res.Dropped, ds), res.BytesReclaimed+d.Bytes
		}
	}
	return res, nil
}

func (db *DB) retentionPlan() ([]retention.Drop, error) {
	if db.closed.Load() {
		return nil, ErrClosed // the view would find no segment to acquire
	}
	_, _, byAge := db.retention.Load().ages()
	p := retention.Policy{ByAge: byAge, MaxBytes: db.opts.RetentionMaxBytes}
	if !p.ByAge && p.MaxBytes <= 0 {
		return nil, nil
	}
	now := db.opts.Now()
	v := db.acquireView() // the periods and holds may read segments: hold them
	defer v.close()
	gen := db.holdsGen.Load() // before the holds: a change after it makes the cache stale
	hs := db.liveHolds()
	segs := make([]retention.Segment, len(v.segments))
	for i, s := range v.segments {
		m := s.meta
		exp, err := db.segmentExpiresAt(s, now)
		if err != nil {
			return nil, err
		}
		held, err := segmentHeld(s, hs, gen)
		if err != nil {
			return nil, err
		}
		segs[i] = retention.Segment{Name: m.Name, Bytes: m.Bytes, Events: m.Events, MinTS: m.MinTS, MaxTS: m.MaxTS, MinSeq: m.MinSeq, MaxSeq: m.MaxSeq, ExpiresAt: exp, Held: held}
	}
	wal := db.wal.Stats().Bytes
	drops := retention.Plan(segs, wal, now, p, db.protectedSeq())
	db.noteHeld(segs, drops, wal)
	return drops, nil
}

// protectedSeq is the highest sequence number every consumer registered
// with SetRetentionFloor has taken; MaxUint64 when there are none.
func (db *DB) protectedSeq() uint64 {
	if f, ok := db.retentionFloor.Load().(func() uint64); ok && f != nil {
		return f()
	}
	return math.MaxUint64
}

// SetRetentionFloor registers the consumers' progress: retention by age
// keeps every segment holding events above floor() (events a destination
// has not delivered); only RetentionMaxBytes overrides it, and such drops
// are marked Undelivered. nil removes the floor.
func (db *DB) SetRetentionFloor(floor func() uint64) {
	db.retentionFloor.Store(floor)
}

// ApplyRetention drops the segments the retention policy expires now.
// Each drop is logged and recorded in the store as an event (provider
// "eventlog", action "retention-drop", naming the segment, its time and
// sequence ranges and its event count).
func (db *DB) ApplyRetention(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	if db.opts.ReadOnly {
		return res, ErrReadOnly
	}
	unlock, err := db.lockMaintenance(ctx) // a merge must not race for the same segments
	if err != nil {
		return res, err
	}
	defer unlock()
	if db.closed.Load() {
		return res, ErrClosed
	}
	defer db.retireRemoved()
	plan, err := db.RetentionPlan()
	if err != nil {
		return res, err
	}
	res.Held, res.HeldBytes = plan.Held, plan.HeldBytes
	for _, d := range plan.Held {
		db.log.Info("eventlog: retention kept a segment an incident hold pins", "segment", d.Name, "reason", d.Reason, "bytes", d.Bytes)
	}
	for _, d := range plan.Dropped {
		if err := db.recordErasedSegment(ctx, d.Name); err != nil { // its client ids
			return res, fmt.Errorf("eventlog: retention: drop %s: %w", d.Name, err)
		}
		erased := db.segmentSeqs(d.Name) // before the drop: its rows keep their leaves
		if err := db.unpackLeaves(erased); err != nil {
			return res, fmt.Errorf("eventlog: retention: drop %s: %w", d.Name, err)
		}
		if err := db.dropSegments(d.Name); err != nil {
			return res, fmt.Errorf("eventlog: retention: drop %s: %w", d.Name, err)
		}
		res.Dropped = append(res.Dropped, d)
		res.BytesReclaimed += d.Bytes
		db.retentionDrops.Add(1)
		db.retentionBytes.Add(d.Bytes)
		db.log.Info("eventlog: retention dropped a segment", "segment", d.Name, "reason", d.Reason, "events", d.Events,
			"min_timestamp", d.MinTS, "max_timestamp", d.MaxTS, "min_seq", d.MinSeq, "max_seq", d.MaxSeq, "undelivered", d.Undelivered)
		// The drop is done: record it even if ctx ends now.
		rec, err := db.append(context.WithoutCancel(ctx), true, []Event{dropRecord(db.opts.Now(), d)})
		if err != nil {
			return res, fmt.Errorf("eventlog: retention: record the drop of %s: %w", d.Name, err)
		}
		if err := db.recordErasure(rec.FirstSeq, integrity.ErasedByRetention, erased); err != nil {
			return res, fmt.Errorf("eventlog: retention: record what the drop of %s erased: %w", d.Name, err)
		}
	}
	return res, nil
}

// dropRecord is the event recording a retention drop.
func dropRecord(now time.Time, d DroppedSegment) Event {
	var ev Event
	ev.Timestamp = event.DateOf(now)
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = InternalProvider, ActionRetentionDrop, "success"
	ev.Event.Reason = d.Reason
	ev.Message = fmt.Sprintf("retention dropped segment %s: %d events from %s to %s (sequence %d to %d)",
		d.Name, d.Events, d.MinTS.Format(time.RFC3339Nano), d.MaxTS.Format(time.RFC3339Nano), d.MinSeq, d.MaxSeq)
	ev.Labels = map[string]string{
		"segment": d.Name, "events": strconv.Itoa(d.Events), "bytes": strconv.FormatInt(d.Bytes, 10),
		"min_timestamp": d.MinTS.Format(time.RFC3339Nano), "max_timestamp": d.MaxTS.Format(time.RFC3339Nano),
		"min_seq": strconv.FormatUint(d.MinSeq, 10), "max_seq": strconv.FormatUint(d.MaxSeq, 10),
		"undelivered": strconv.FormatBool(d.Undelivered),
	}
	return ev
}

// expiredBefore is the @timestamp (Unix ns) below which every event is
// expired now, whatever rule applies: reads skip them. Events between it
// and the shortest period's cutoff are checked one by one where a read
// decodes them (queries, tails, compaction).
func (db *DB) expiredBefore() int64 {
	return db.retention.Load().certainlyExpiredBefore(db.opts.Now())
}
