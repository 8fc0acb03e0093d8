package eventlog

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/query"
)

// This file is idempotent ingest: an event with a client id
// (event.Event.ClientID, JSON "_id") that is already stored is not stored
// again. Client ids and engine ids (IDOf) are separate namespaces; only
// client ids are deduplicated.
//
// Lookup is exact: every source of the store (heads and segments) indexes
// "_id" as a posting term (a sorted dictionary in a segment, a map in a
// head), so an id is found by its term and its row's sequence number, with
// no probabilistic step. WAL replay rebuilds the heads' terms, so a restart
// or crash forgets nothing that was acknowledged.
//
// "Same content" compares the binary form (event.AppendBinary) of the event
// as the store would keep it — pseudonymised as Options.Pseudonymizer
// says — with the stored one's, except that an event given without
// @timestamp takes the stored event's: the store stamps such events with
// the arrival time, so a retry of one is the same content whenever it
// comes.
//
// Concurrent appends of one id: the lookup and a reservation of the new
// ids are made under db.dedupMu, the write outside it; an append meeting
// another's reservation waits for its outcome (dedup_pending.go).

// AppendResult says what Append did with one event.
type AppendResult uint8

const (
	// Created: stored by this Append.
	Created AppendResult = iota
	// Duplicate: an event with the same client id and the same content
	// is already stored: not stored again; Seq is the stored one's.
	Duplicate
	// Conflict: an event with the same client id but different content
	// is already stored: not stored; Seq is the stored one's.
	Conflict
)

// String returns the result's name: "created", "duplicate" or "conflict".
func (r AppendResult) String() string {
	switch r {
	case Created:
		return "created"
	case Duplicate:
		return "duplicate"
	case Conflict:
		return "conflict"
	}
	return "unknown"
}

// AppendedItem is what Append did with one input event.
type AppendedItem struct {
	Seq    uint64
	Result AppendResult
}

// DefaultDedupWindow is Options.DedupWindow's default.
const DefaultDedupWindow = 24 * time.Hour

// hasClientIDs reports whether any event carries a client id.
func hasClientIDs(events []Event) bool {
	for i := range events {
		if events[i].ClientID != "" {
			return true
		}
	}
	return false
}

// dedup is what deduplication decided for one Append's events.
type dedup struct {
	items []AppendedItem
	// at are the input indexes of the events to store (Created), in
	// input order.
	at []int
	// firstOf[i] is, for an input event that repeats an id given earlier
	// in the same batch, the input index of that earlier one; else -1.
	firstOf []int
}

// dedupe decides, for a batch with client ids, which events to store and
// what to answer for the others. The caller holds db.dedupMu.
func (db *DB) dedupe(ctx context.Context, events []Event) (*dedup, error) {
	ids := batchClientIDs(events)
	stored, err := db.lookupClientIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	erased := db.lookupErased(ids)
	d := &dedup{items: make([]AppendedItem, len(events)), firstOf: make([]int, len(events)), at: make([]int, 0, len(events))}
	firstIn := map[string]int{}
	for i := range events {
		ev := &events[i]
		d.firstOf[i] = -1
		if ev.ClientID == "" {
			d.at = append(d.at, i)
			continue
		}
		if s, ok := stored[ev.ClientID]; ok {
			d.items[i] = AppendedItem{Seq: s.seq, Result: db.compareStored(&s.ev, ev)}
			continue
		}
		if x, ok := erased[ev.ClientID]; ok {
			d.items[i] = AppendedItem{Seq: x.seq, Result: db.compareErased(x, ev)}
			continue
		}
		if j, ok := firstIn[ev.ClientID]; ok {
			d.firstOf[i] = j
			d.items[i].Result = compareGiven(&events[j], ev)
			continue
		}
		firstIn[ev.ClientID] = i
		d.at = append(d.at, i)
	}
	return d, nil
}

// toStore returns the events to store: events itself when every one is
// (the common case: an Event is large, so copying a batch costs).
func (d *dedup) toStore(events []Event) []Event {
	if len(d.at) == len(events) {
		return events
	}
	out := make([]Event, len(d.at))
	for k, i := range d.at {
		out[k] = events[i]
	}
	return out
}

// appended is the Append answer once the events to store got sequence
// numbers from first (unused when none was stored).
func (d *dedup) appended(first uint64, count int) Appended {
	for k, i := range d.at {
		d.items[i] = AppendedItem{Seq: first + uint64(k), Result: Created}
	}
	for i, j := range d.firstOf {
		if j >= 0 {
			d.items[i].Seq = d.items[j].Seq
		}
	}
	a := Appended{Count: count, Items: d.items}
	if len(d.at) > 0 {
		a.FirstSeq = first
	}
	return a
}

// batchClientIDs returns the distinct client ids of events.
func batchClientIDs(events []Event) []string {
	seen := make(map[string]bool, len(events))
	var ids []string
	for i := range events {
		if id := events[i].ClientID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// storedID is a stored event found by its client id.
type storedID struct {
	seq uint64
	ev  Event
}

// lookupClientIDs finds the stored events with the given client ids, in
// every head and segment, deleted ones included (rows a tombstone hides
// are still found: an erased event's id stays known). When an id has
// several events (stored before deduplication, or after its window), the
// one with the lowest sequence number answers.
func (db *DB) lookupClientIDs(ctx context.Context, ids []string) (map[string]storedID, error) {
	found := make(map[string]storedID)
	if len(ids) == 0 {
		return found, nil
	}
	// In id order, a segment of format version 4 finds consecutive ids on
	// the page it read last (its ids are in pages), so a retried batch
	// reads each page it needs once.
	ids = slices.Sorted(slices.Values(ids))
	err := db.withSnapshot(ctx, func(snap query.Snapshot) error {
		for _, src := range snap.Sources {
			if err := lookupSource(src, ids, found); err != nil {
				return err
			}
		}
		return nil
	})
	return found, err
}

// lookupSource adds to found the events of src with one of ids. The rows
// found are read a block at a time: a retried batch finds many rows of
// one block, which is decompressed once.
func lookupSource(src query.Source, ids []string, found map[string]storedID) error {
	rows := roaring.New()
	for _, id := range ids {
		bm, err := src.Postings(index.Term{Field: event.ClientIDField, Value: id})
		if err != nil {
			return err
		}
		if bm != nil && !bm.IsEmpty() {
			rows.Or(bm)
		}
	}
	return eachRow(src, rows, func(s storedID) {
		if prev, ok := found[s.ev.ClientID]; !ok || s.seq < prev.seq {
			found[s.ev.ClientID] = s
		}
	})
}

// eachRow calls fn with the sequence number and event of each row of
// rows (row numbers of src), decoding each block once with all its rows
// asked. The event fn gets is its own.
func eachRow(src query.Source, rows *roaring.Bitmap, fn func(storedID)) error {
	if rows.IsEmpty() {
		return nil
	}
	want := rows.ToArray()
	for bi, b := range src.Blocks() {
		lo, hi := int(b.FirstRow), int(b.FirstRow+b.Rows)
		var in []int
		for len(want) > 0 && int(want[0]) < hi {
			if int(want[0]) < lo {
				return errRowOutside
			}
			in, want = append(in, int(want[0])-lo), want[1:]
		}
		if len(in) == 0 {
			continue
		}
		_, seqs, err := src.Keys(bi)
		if err != nil {
			return err
		}
		evs := make([]event.Event, len(in))
		out := make([]*event.Event, len(in))
		for k := range evs {
			out[k] = &evs[k]
		}
		if err := src.Decode(bi, in, nil, out); err != nil {
			return err
		}
		for k, r := range in {
			fn(storedID{seq: seqs[r], ev: evs[k]})
		}
	}
	if len(want) > 0 {
		return errRowOutside
	}
	return nil
}

var errRowOutside = errors.New("client id lookup: posting row outside every block")

// compareStored says whether given repeats stored (Duplicate) or differs
// (Conflict), comparing the binary form the store would keep for given.
func (db *DB) compareStored(stored, given *Event) AppendResult {
	g := *given
	if g.Timestamp.IsZero() {
		g.Timestamp = stored.Timestamp
	}
	return sameBinary(stored, db.opts.Pseudonymizer.Event(&g))
}

// compareGiven is compareStored for two events of one batch, neither
// stored yet: a missing @timestamp takes the first one's.
func compareGiven(first, given *Event) AppendResult {
	g := *given
	if g.Timestamp.IsZero() {
		g.Timestamp = first.Timestamp
	}
	return sameBinary(first, &g)
}

func sameBinary(a, b *Event) AppendResult {
	if bytes.Equal(event.AppendBinary(nil, a), event.AppendBinary(nil, b)) {
		return Duplicate
	}
	return Conflict
}
