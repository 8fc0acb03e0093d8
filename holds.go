package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// An incident hold pins the events matching its filter with @timestamp in
// its window against retention, including events that arrive later inside
// the window, until it is released: when an incident starts, the operator
// puts a hold on its window, and the evidence outlives however short a
// retention is set. Holds live in HOLDS (FORMAT.md), written atomically
// before CreateHold or ReleaseHold returns, so they survive a crash.
type Hold struct {
	// Name identifies the hold (letters, digits, '.', '_', '-'; at most 64).
	Name string `json:"name"`
	// Filter is the KQL filter (pseudonymised where the store pseudonymises).
	Filter string `json:"filter"`
	// Start and End bound @timestamp (RFC 3339, inclusive; "" unbounded),
	// relative times resolved when the hold was made.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// Reason says why (the incident); required, so a hold is never orphaned.
	Reason string `json:"reason"`
	// Created is when the hold was made (RFC 3339).
	Created string `json:"created"`
	// After is the highest sequence number stored when the hold was made:
	// it blocks the deletes by query made after it (tombstone Seq above
	// it), never an earlier one, whose rows are already gone from reads —
	// a hold does not bring deleted events back.
	After uint64 `json:"after_seq"`

	f            *filter.Filter
	minTS, maxTS int64
}

// HoldRequest asks for a hold; Start and End take what a query takes
// (RFC 3339, "now", "now-15m", a bare duration).
type HoldRequest struct {
	Name   string `json:"name"`
	Filter string `json:"filter"`
	Start  string `json:"start,omitempty"`
	End    string `json:"end,omitempty"`
	Reason string `json:"reason"`
}

// Actions of the events recording holds (provider InternalProvider).
const (
	ActionHoldCreate  = "hold-create"
	ActionHoldRelease = "hold-release"
)

// Errors of the hold API.
var (
	ErrHoldExists   = errors.New("eventlog: a hold with this name exists")
	ErrHoldNotFound = errors.New("eventlog: no hold with this name")
)

var holdName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// compile parses the filter and the window; a hold read from disk is
// compiled at open, so a damaged one fails the open, not a retention run.
func (h *Hold) compile() error {
	f, err := filter.Parse(h.Filter)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	h.f, h.minTS, h.maxTS = f, math.MinInt64, math.MaxInt64
	for _, b := range []struct {
		name, s string
		dst     *int64
	}{{"start", h.Start, &h.minTS}, {"end", h.End, &h.maxTS}} {
		if b.s == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, b.s)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		*b.dst = ts.UnixNano()
	}
	if h.minTS > h.maxTS {
		return fmt.Errorf("start %s is after end %s", h.Start, h.End)
	}
	return nil
}

// holds reports whether h pins ev.
func (h *Hold) holds(ev *event.Event) bool {
	ts := ev.Timestamp.UnixNano()
	return ts >= h.minTS && ts <= h.maxTS && h.f.Match(ev)
}

// overlaps reports whether h's window meets [minTS, maxTS].
func (h *Hold) overlaps(minTS, maxTS int64) bool { return h.minTS <= maxTS && minTS <= h.maxTS }

// holdSet is the live holds, sorted by name; never modified once
// published, only replaced.
type holdSet []*Hold

// holds reports whether any hold pins ev.
func (hs holdSet) holds(ev *event.Event) bool {
	for _, h := range hs {
		if h.holds(ev) {
			return true
		}
	}
	return false
}

// fields are what the holds' filters read (with @timestamp).
func (hs holdSet) fields() []*event.Field {
	out := []*event.Field{event.FieldByName("@timestamp")}
	for _, h := range hs {
		out = append(out, h.f.Fields()...)
	}
	return out
}

// minStart is the earliest @timestamp any hold pins.
func (hs holdSet) minStart() int64 {
	m := int64(math.MaxInt64)
	for _, h := range hs {
		m = min(m, h.minTS)
	}
	return m
}

// holdsFile is the file holding the live holds.
const holdsFile = "HOLDS"

// holdsVersion is the version of the HOLDS format; readers refuse newer.
const holdsVersion = 1

type holdsDoc struct {
	Version int     `json:"version"`
	Holds   holdSet `json:"holds"`
}

var errHoldsFile = corrupt.New("holds file is damaged")

func encodeHolds(hs holdSet) ([]byte, error) {
	if hs == nil {
		hs = holdSet{}
	}
	return encodeChecksummed(&holdsDoc{Version: holdsVersion, Holds: hs})
}

func decodeHolds(data []byte) (holdSet, error) {
	var doc holdsDoc
	if err := decodeChecksummed(data, &doc, errHoldsFile); err != nil {
		return nil, err
	}
	if doc.Version < 1 || doc.Version > holdsVersion {
		return nil, fmt.Errorf("%w: format version %d, this eventlog reads 1..%d", errHoldsFile, doc.Version, holdsVersion)
	}
	for i, h := range doc.Holds {
		if h == nil || !holdName.MatchString(h.Name) || (i > 0 && h.Name <= doc.Holds[i-1].Name) {
			return nil, fmt.Errorf("%w: hold %d is missing, badly named or out of order", errHoldsFile, i)
		}
		if err := h.compile(); err != nil {
			return nil, fmt.Errorf("%w: hold %q: %v", errHoldsFile, h.Name, err)
		}
	}
	return doc.Holds, nil
}

// loadHolds reads HOLDS at open; a missing file is no hold.
func (db *DB) loadHolds() error {
	hs, err := readHolds(db.opts.FS, db.dir)
	if err != nil {
		return err
	}
	db.holds.Store(&hs)
	return nil
}

// readHolds reads dir's HOLDS; a missing file is no hold.
func readHolds(fsys vfs.FS, dir string) (holdSet, error) {
	path := filepath.Join(dir, holdsFile)
	data, err := vfs.ReadFile(fsys, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	hs, err := decodeHolds(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hs, nil
}

// liveHolds returns the holds in force.
func (db *DB) liveHolds() holdSet {
	if p := db.holds.Load(); p != nil {
		return *p
	}
	return nil
}

// storeHolds writes hs to HOLDS and then publishes it; callers hold
// holdsMu.
func (db *DB) storeHolds(hs holdSet) error {
	data, err := encodeHolds(hs)
	if err != nil {
		return err
	}
	path := filepath.Join(db.dir, holdsFile)
	if err := vfs.WriteFileAtomic(db.opts.FS, path, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	db.holds.Store(&hs)
	db.holdsGen.Add(1) // after the store: a mask computed under the old holds is stale
	// Holds shape reads: an observer publishing the store (package
	// tiering) must publish them too, though the manifest did not change.
	db.manifestMu.Lock()
	db.notifyManifest(db.manifest)
	db.manifestMu.Unlock()
	return nil
}

// newHold checks req and resolves its times, so the window means the same
// thing however late an event arrives.
func (db *DB) newHold(req HoldRequest) (*Hold, error) {
	if !holdName.MatchString(req.Name) {
		return nil, fmt.Errorf("%w: name %q: use 1 to 64 letters, digits, '.', '_' or '-'", ErrInvalidRequest, req.Name)
	}
	if req.Filter == "" {
		return nil, fmt.Errorf("%w: filter is required (to hold every event in the window, use \"@timestamp:*\")", ErrInvalidRequest)
	}
	if strings.TrimSpace(req.Reason) == "" {
		return nil, fmt.Errorf("%w: reason is required (say which incident the hold is for)", ErrInvalidRequest)
	}
	text, err := db.opts.Pseudonymizer.FilterText(req.Filter)
	if err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrInvalidRequest, err)
	}
	now := db.opts.Now()
	h := &Hold{Name: req.Name, Filter: text, Reason: req.Reason, Created: now.UTC().Format(time.RFC3339Nano)}
	for _, b := range []struct {
		name, in string
		out      *string
	}{{"start", req.Start, &h.Start}, {"end", req.End, &h.End}} {
		if b.in == "" {
			continue
		}
		ts, err := timespan.ParseTime(b.in, now)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidRequest, b.name, err)
		}
		*b.out = ts.UTC().Format(time.RFC3339Nano)
	}
	if err := h.compile(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := checkKeptPaths(h.f, false, "a schema field"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return h, nil
}

// CreateHold puts a hold on the events req selects; it is durable when
// CreateHold returns, and recorded in the store as an event (provider
// "eventlog", action "hold-create", with the hold's name, window, reason
// and the SHA-256 of its filter, which may name a person). A name in use is refused (ErrHoldExists): a hold is
// released by name, and two incidents must not share one.
func (db *DB) CreateHold(ctx context.Context, req HoldRequest) (Hold, error) {
	switch {
	case db.closed.Load():
		return Hold{}, ErrClosed
	case db.opts.ReadOnly:
		return Hold{}, ErrReadOnly
	}
	h, err := db.newHold(req)
	if err != nil {
		return Hold{}, fmt.Errorf("eventlog: hold: %w", err)
	}
	// No delete is made meanwhile, so After splits them cleanly: those
	// before it are done (their records published), those after it see
	// the hold.
	db.deleteMu.Lock()
	defer db.deleteMu.Unlock()
	db.holdsMu.Lock()
	defer db.holdsMu.Unlock()
	cur := db.liveHolds()
	i, found := slices.BinarySearchFunc(cur, h.Name, func(o *Hold, n string) int { return strings.Compare(o.Name, n) })
	if found {
		return Hold{}, fmt.Errorf("%w: %q", ErrHoldExists, h.Name)
	}
	h.After = db.published.Load()
	next := slices.Insert(slices.Clone(cur), i, h)
	if err := db.storeHolds(next); err != nil {
		return Hold{}, fmt.Errorf("eventlog: hold %s: %w", h.Name, err)
	}
	db.log.Info("eventlog: hold created", "hold", h.Name, "start", h.Start, "end", h.End)
	if err := db.recordHold(ctx, ActionHoldCreate, h); err != nil {
		return *h, fmt.Errorf("eventlog: hold %s is in force, but its record failed: %w", h.Name, err)
	}
	return *h, nil
}

// ReleaseHold removes the named hold, recording it as an event (action
// "hold-release"); what it pinned is then subject to retention again (at
// the next run).
func (db *DB) ReleaseHold(ctx context.Context, name string) (Hold, error) {
	switch {
	case db.closed.Load():
		return Hold{}, ErrClosed
	case db.opts.ReadOnly:
		return Hold{}, ErrReadOnly
	}
	db.holdsMu.Lock()
	defer db.holdsMu.Unlock()
	cur := db.liveHolds()
	i, found := slices.BinarySearchFunc(cur, name, func(o *Hold, n string) int { return strings.Compare(o.Name, n) })
	if !found {
		return Hold{}, fmt.Errorf("%w: %q", ErrHoldNotFound, name)
	}
	h := cur[i]
	next := slices.Delete(slices.Clone(cur), i, i+1)
	if err := db.storeHolds(next); err != nil {
		return Hold{}, fmt.Errorf("eventlog: release hold %s: %w", name, err)
	}
	db.log.Info("eventlog: hold released", "hold", name)
	if err := db.recordHold(ctx, ActionHoldRelease, h); err != nil {
		return *h, fmt.Errorf("eventlog: hold %s is released, but its record failed: %w", name, err)
	}
	return *h, nil
}

// Holds returns the holds in force, by name.
func (db *DB) Holds() []Hold {
	cur := db.liveHolds()
	out := make([]Hold, len(cur))
	for i, h := range cur {
		out[i] = *h
	}
	return out
}

// recordHold stores the event recording a hold's creation or release. The
// change is done: the record goes through even if ctx ends.
func (db *DB) recordHold(ctx context.Context, action string, h *Hold) error {
	var ev Event
	ev.Timestamp = event.DateOf(db.opts.Now())
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = InternalProvider, action, "success"
	ev.Event.Reason = h.Reason
	verb := "created"
	if action == ActionHoldRelease {
		verb = "released"
	}
	ev.Message = fmt.Sprintf("incident hold %s %s (from %s to %s): %s", h.Name, verb, orUnbounded(h.Start), orUnbounded(h.End), h.Reason)
	ev.Labels = map[string]string{"hold": h.Name, "filter_sha256": filterHash(h.Filter)}
	if h.Start != "" {
		ev.Labels["start"] = h.Start
	}
	if h.End != "" {
		ev.Labels["end"] = h.End
	}
	_, err := db.append(context.WithoutCancel(ctx), true, []Event{ev})
	return err
}

func orUnbounded(s string) string {
	if s == "" {
		return "unbounded"
	}
	return s
}

// HoldInfo is a hold with how many stored events it pins now.
type HoldInfo struct {
	Hold
	Events int `json:"events"`
}

// HoldsWithCounts returns the holds in force, by name, each with how many
// visible events it pins (a count over the index, as a query's total).
func (db *DB) HoldsWithCounts(ctx context.Context) ([]HoldInfo, error) {
	hs := db.Holds()
	out := make([]HoldInfo, len(hs))
	err := db.read(ctx, "", func(rs *readSnapshot) error {
		opts := db.queryOptions()
		opts.NoHits = true
		opts.ParseFilter = nil // the hold's filter is stored pseudonymised already
		for i, h := range hs {
			r, err := query.Execute(ctx, rs.query(), query.Request{Filter: h.Filter, Start: h.Start, End: h.End, AllowPartial: true}, opts)
			if err != nil {
				return fmt.Errorf("hold %s: %w", h.Name, err)
			}
			out[i] = HoldInfo{Hold: h, Events: r.Total}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog: holds: %w", err)
	}
	return out, nil
}

// kql is the hold as one KQL filter, its window included: what a query
// over the index needs to find the rows it pins.
func (h *Hold) kql() string {
	q := "(" + h.Filter + ")"
	if h.Start != "" {
		q += fmt.Sprintf(` and @timestamp >= %q`, h.Start)
	}
	if h.End != "" {
		q += fmt.Sprintf(` and @timestamp <= %q`, h.End)
	}
	return q
}

// kql is the union of the holds as one KQL filter ("" for none).
func (hs holdSet) kql() string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = "(" + h.kql() + ")"
	}
	return strings.Join(parts, " or ")
}
