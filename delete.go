package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/integrity"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// ActionDeleteByQuery is the action of the event recording a delete by
// query (provider InternalProvider).
const ActionDeleteByQuery = "delete-by-query"

// DeleteRequest selects the events a delete by query removes: those
// matching Filter (KQL, required) with @timestamp between Start and End
// (inclusive; RFC 3339, "now", "now-15m" or a bare duration, as in
// query.Request; "" is unbounded).
type DeleteRequest struct {
	Filter string `json:"filter"`
	Start  string `json:"start,omitempty"`
	End    string `json:"end,omitempty"`
	// KeptFields allows a filter naming fields outside the schema (kept
	// unknown fields, evaluated on their stored values). Without it such a
	// filter is refused: a misspelt field is outside the schema too, and
	// would delete nothing — or, under not, everything.
	KeptFields bool `json:"kept_fields,omitempty"`
}

// DeleteResult says what a delete by query did.
type DeleteResult struct {
	// Deleted is how many events it hid: those visible when it was made,
	// outside damaged ranges (whose rows it hides too once repaired).
	Deleted int `json:"deleted"`
	// Seq is the sequence number of the event recording the delete;
	// events stored from then on survive it even if they match.
	Seq uint64 `json:"seq"`
	// FilterSHA256 is the hash the record carries instead of the filter.
	FilterSHA256 string `json:"filter_sha256"`
	// Blocked is how many events it selects that incident holds pin: they
	// stay visible (and on disk) until their holds are released, and the
	// delete then hides and purges them.
	Blocked int `json:"blocked"`
}

// Delete removes the events req selects, for privacy requests and
// mistakes. It writes a tombstone through the WAL (fsynced before Delete
// returns, whatever the sync policy) together with an event recording the
// delete (provider "eventlog", action "delete-by-query", with the SHA-256
// of the filter, not the filter itself, which may name the person being
// erased, and the count). From its return on, no query, count, export or
// tail returns a deleted event. Only events stored before it are affected
// (later ones survive even if they match), and relative times are resolved
// once, when it is made. Sealing and compaction then purge the rows from
// disk; a segment holding deleted rows is rewritten at the next
// maintenance run (or Compact call; not while compaction is paused) even
// when compaction would leave it alone, and Stats shows the purges still
// pending. Once the purge is complete the filter is
// forgotten. An I/O error leaves the outcome unknown, as with Append.
func (db *DB) Delete(ctx context.Context, req DeleteRequest) (DeleteResult, error) {
	var res DeleteResult
	switch {
	case db.closed.Load():
		return res, ErrClosed
	case db.opts.ReadOnly:
		return res, ErrReadOnly
	}
	t, err := db.newTombstone(req)
	if err != nil {
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	db.deleteMu.Lock()
	defer db.deleteMu.Unlock()
	// Count what it hides at one watermark, and bound it there: a
	// concurrent append after the count survives, so the count is exact.
	if err := db.countDeleted(ctx, t); err != nil {
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	if err := db.recordErasedDelete(ctx, t); err != nil { // the client ids it erases
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	erased, err := db.erasedBy(ctx, t) // the tree's positions it erases
	if err != nil {
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	if err := db.unpackLeaves(erased); err != nil { // while the events are stored
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	res = DeleteResult{Deleted: t.Deleted, Blocked: t.Blocked, FilterSHA256: filterHash(t.Filter)}
	rec := deleteRecord(db.opts.Now(), t, res.FilterSHA256)
	// From here the delete goes through even if ctx ends: half a delete
	// (a record without its sync) would leave its outcome unknown.
	a, err := db.appendWith(context.WithoutCancel(ctx), true, []Event{rec}, t)
	if err != nil {
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	if err := db.wal.Sync(); err != nil {
		return res, fmt.Errorf("eventlog: delete: sync: %w", err)
	}
	res.Seq = a.FirstSeq
	if err := db.recordErasure(res.Seq, integrity.ErasedByDelete, erased); err != nil {
		return res, fmt.Errorf("eventlog: delete: %w", err)
	}
	db.deletes.Add(1)
	db.deletedEvents.Add(int64(t.Deleted))
	db.log.Info("eventlog: delete by query", "seq", res.Seq, "deleted", res.Deleted, "blocked_by_holds", res.Blocked, "filter_sha256", res.FilterSHA256)
	db.wakeCompactor()
	return res, nil
}

// countDeleted sets t's Bound to the current watermark, Deleted to how
// many visible events up to it t hides and Blocked to how many more it
// selects that incident holds pin. Damaged ranges are left out of the
// count, not out of the delete: an erasure must not wait for a repair, and
// the rows repair brings back are hidden and purged like the others.
func (db *DB) countDeleted(ctx context.Context, t *tombstone) error {
	return db.read(ctx, "", func(rs *readSnapshot) error {
		opts := db.queryOptions()
		opts.NoHits = true
		req := t.request()
		req.AllowPartial = true
		r, err := query.Execute(ctx, rs.query(), req, opts)
		if err != nil {
			return err
		}
		t.Bound, t.Deleted, t.Blocked = rs.pub, r.Total, 0
		if holds := db.liveHolds(); len(holds) > 0 {
			req.Filter = "(" + t.Filter + ") and (" + holds.kql() + ")"
			b, err := query.Execute(ctx, rs.query(), req, opts)
			if err != nil {
				return fmt.Errorf("count the events holds pin: %w", err)
			}
			t.Deleted, t.Blocked = r.Total-b.Total, b.Total
		}
		return nil
	})
}

// checkKeptPaths refuses a filter that erases by fields outside the
// schema unless allowed (by the setting named opt): such a name is as
// likely a typo of a schema field as a kept field.
func checkKeptPaths(f *filter.Filter, allowed bool, opt string) error {
	paths := f.KeptPaths()
	if len(paths) == 0 || allowed {
		return nil
	}
	return fmt.Errorf("the filter names fields outside the schema (%s): if they are kept unknown fields, set %s to erase by them; if not, check the spelling (a misspelt field matches nothing, and under not everything)", strings.Join(paths, ", "), opt)
}

// errEmptyDelete refuses a delete without a filter: one that would remove
// everything must say so.
var errEmptyDelete = errors.New(`filter is required (to delete every event in a time range, use the filter "@timestamp:*" with start and end)`)

// newTombstone checks req and resolves its times, so the tombstone means
// the same thing however late it is applied.
func (db *DB) newTombstone(req DeleteRequest) (*tombstone, error) {
	if req.Filter == "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, errEmptyDelete)
	}
	// Stored pseudonymised: the tombstone and the delete's record must not
	// keep the personal values the filter names.
	text, err := db.opts.Pseudonymizer.FilterText(req.Filter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	now := db.opts.Now()
	t := &tombstone{Filter: text}
	for _, b := range []struct {
		name, in string
		out      *string
	}{{"start", req.Start, &t.Start}, {"end", req.End, &t.End}} {
		if b.in == "" {
			continue
		}
		ts, err := timespan.ParseTime(b.in, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidRequest, b.name, err)
		}
		*b.out = ts.UTC().Format(time.RFC3339Nano)
	}
	if err := t.compile(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := checkKeptPaths(t.f, req.KeptFields, "kept_fields"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if t.minTS > t.maxTS {
		return nil, fmt.Errorf("%w: start %s is after end %s", ErrInvalidRequest, t.Start, t.End)
	}
	return t, nil
}

// filterHash is the SHA-256 of a filter, in hex.
func filterHash(f string) string {
	sum := sha256.Sum256([]byte(f))
	return hex.EncodeToString(sum[:])
}

// deleteRecord is the event recording a delete by query.
func deleteRecord(now time.Time, t *tombstone, hash string) Event {
	var ev Event
	ev.Timestamp = event.DateOf(now)
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = InternalProvider, ActionDeleteByQuery, "success"
	ev.Message = fmt.Sprintf("delete by query hid %d events stored up to sequence %d (filter sha256 %s)", t.Deleted, t.Bound, hash)
	ev.Labels = map[string]string{
		"filter_sha256": hash, "deleted": strconv.Itoa(t.Deleted), "bound_seq": strconv.FormatUint(t.Bound, 10),
	}
	if t.Blocked > 0 {
		ev.Message += fmt.Sprintf("; %d more are pinned by incident holds and stay until released", t.Blocked)
		ev.Labels["blocked_by_holds"] = strconv.Itoa(t.Blocked)
	}
	if t.Start != "" {
		ev.Labels["start"] = t.Start
	}
	if t.End != "" {
		ev.Labels["end"] = t.End
	}
	return ev
}
