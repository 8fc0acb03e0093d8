package eventlog

import (
	"context"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/query"
)

// Get finds stored events by id: each id is looked up as a client id
// (event.Event.ClientID) first, then as an engine id (IDOf). The answer
// maps each id found to its record; a missing id, and an event deleted by
// query or past its retention, is absent. Like every read it sees one
// snapshot; it answers from the postings and the sequence index, decoding
// only the events found.
func (db *DB) Get(ctx context.Context, ids ...string) (map[string]Record, error) {
	found := make(map[string]Record, len(ids))
	now := db.opts.Now()
	err := db.withSnapshot(ctx, func(snap query.Snapshot) error {
		// In id order, as dedup looks ids up (see lookupClientIDs).
		for _, id := range slices.Sorted(slices.Values(ids)) {
			rec, ok, err := getOne(snap, id)
			if err != nil {
				return err
			}
			if ok && !db.expired(&rec.Event, now) {
				found[id] = rec
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// getOne finds id in snap, as a client id and then as an engine id.
func getOne(snap query.Snapshot, id string) (Record, bool, error) {
	for si, src := range snap.Sources {
		bm, err := src.Postings(index.Term{Field: event.ClientIDField, Value: id})
		if err != nil {
			return Record{}, false, err
		}
		if rec, ok, err := firstVisible(snap, si, bm); ok || err != nil {
			return rec, ok, err
		}
	}
	seq, err := SeqOfID(id)
	if err != nil || seq > snap.MaxSeq {
		return Record{}, false, nil
	}
	for si, src := range snap.Sources {
		row, ok, err := rowOfSeq(src, seq)
		if err != nil || !ok {
			if err != nil {
				return Record{}, false, err
			}
			continue
		}
		if rec, ok, err := firstVisible(snap, si, roaring.BitmapOf(uint32(row))); ok || err != nil {
			return rec, ok, err
		}
	}
	return Record{}, false, nil
}

// firstVisible reads the first row of rows in source si that the snapshot
// shows (not hidden by a delete, not above its watermark).
func firstVisible(snap query.Snapshot, si int, rows *roaring.Bitmap) (Record, bool, error) {
	if rows == nil {
		return Record{}, false, nil
	}
	visible := rows.Clone()
	if si < len(snap.Hidden) && snap.Hidden[si] != nil {
		visible.AndNot(snap.Hidden[si])
	}
	var rec Record
	found := false
	err := eachRow(snap.Sources[si], visible, func(s storedID) {
		if s.seq <= snap.MaxSeq && (!found || s.seq < rec.Seq) {
			rec, found = Record{Seq: s.seq, ID: DocumentID(s.seq, &s.ev), Event: s.ev}, true
		}
	})
	return rec, found, err
}

// rowOfSeq finds the row of src holding sequence number seq.
func rowOfSeq(src query.Source, seq uint64) (int, bool, error) {
	for bi, b := range src.Blocks() {
		if seq < b.MinSeq || seq > b.MaxSeq {
			continue
		}
		_, seqs, err := src.Keys(bi)
		if err != nil {
			return 0, false, err
		}
		for i, s := range seqs {
			if s == seq {
				return int(b.FirstRow) + i, true, nil
			}
		}
	}
	return 0, false, nil
}
