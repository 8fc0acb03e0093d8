package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
)

// This file keeps the client ids of erased events known: an event deleted
// by query, purged or dropped by retention leaves the heads and segments,
// and with it the posting that found its id, so a shipper retrying it
// would bring it back. Before its rows go, each erased event with a client
// id is written to ERASED_IDS (FORMAT.md) with its sequence number, a
// fingerprint of its content and the time until which it is kept: the
// erasure time plus Options.DedupWindow (arrival is earlier, so an id is
// kept at least the window after its arrival). Expired entries are pruned
// whenever the file is written and when it is read.

// erasedFile is the name of the erased-ids file in the data directory.
const erasedFile = "ERASED_IDS"

// Wire constants of ERASED_IDS version 1 (frozen).
const (
	erasedMagic   = "EVER"
	erasedVersion = 1
	fingerprintN  = 16
)

var errErasedCorrupt = errors.New("ERASED_IDS is damaged")

// erasedID is what is kept of an erased event with a client id.
type erasedID struct {
	seq   uint64
	until int64 // Unix ns: forgotten after
	// ts and format are the stored @timestamp (instant and event.Format):
	// a retry without @timestamp takes it, as for a stored event.
	ts     int64
	format event.Format
	// fp fingerprints the stored event without its @timestamp.
	fp [fingerprintN]byte
}

// erasedIDs is the in-memory copy of ERASED_IDS.
type erasedIDs struct {
	mu  sync.Mutex
	ids map[string]erasedID
}

// fingerprint is the first 16 bytes of the SHA-256 of ev's binary form
// without its @timestamp: a 128-bit digest, so two different contents
// collide with negligible probability.
func fingerprint(ev *Event) [fingerprintN]byte {
	e := *ev
	e.Timestamp = event.Date{}
	sum := sha256.Sum256(event.AppendBinary(nil, &e))
	return [fingerprintN]byte(sum[:fingerprintN])
}

// erasures collects the erased events with client ids of one erasure
// (a delete, a merge, a retention drop), to be recorded before the
// erasure is durable.
type erasures map[string]erasedID

// add notes that the stored event ev (sequence number seq) is erased,
// to be kept until until.
func (es erasures) add(seq uint64, ev *Event, until time.Time) {
	if ev.ClientID == "" {
		return
	}
	if p, ok := es[ev.ClientID]; ok && p.seq <= seq {
		return
	}
	es[ev.ClientID] = erasedID{seq: seq, until: until.UnixNano(),
		ts: ev.Timestamp.UnixNano(), format: ev.Timestamp.Format(), fp: fingerprint(ev)}
}

// erasedUntil is when an id erased now is forgotten.
func (db *DB) erasedUntil() time.Time { return db.opts.Now().Add(db.opts.DedupWindow) }

// recordErased writes es to ERASED_IDS with the ids already known,
// pruning the expired, in one atomic replace; the caller erases only
// after it succeeded.
func (db *DB) recordErased(es erasures) error {
	if len(es) == 0 {
		return nil
	}
	e := &db.erased
	e.mu.Lock()
	defer e.mu.Unlock()
	next := make(map[string]erasedID, len(e.ids)+len(es))
	now := db.opts.Now().UnixNano()
	for _, m := range []map[string]erasedID{e.ids, es} {
		for id, x := range m {
			if p, ok := next[id]; x.until >= now && (!ok || x.until > p.until) {
				next[id] = x
			}
		}
	}
	if err := vfs.WriteFileAtomic(db.opts.FS, filepath.Join(db.dir, erasedFile), encodeErased(next)); err != nil {
		return fmt.Errorf("write %s: %w", erasedFile, err)
	}
	e.ids = next
	return nil
}

// lookupErased returns the erased events with the given ids still within
// their window.
func (db *DB) lookupErased(ids []string) map[string]erasedID {
	e := &db.erased
	e.mu.Lock()
	defer e.mu.Unlock()
	now := db.opts.Now().UnixNano()
	out := map[string]erasedID{}
	for _, id := range ids {
		if x, ok := e.ids[id]; ok && x.until >= now {
			out[id] = x
		}
	}
	return out
}

// compareErased is compareStored for an erased event, known by its
// @timestamp and fingerprint.
func (db *DB) compareErased(x erasedID, given *Event) AppendResult {
	g := *given
	if g.Timestamp.IsZero() {
		if d, ok := event.DateFromParts(x.ts, x.format); ok {
			g.Timestamp = d
		}
	}
	p := db.opts.Pseudonymizer.Event(&g)
	if p.Timestamp.UnixNano() != x.ts || p.Timestamp.Format() != x.format || fingerprint(p) != x.fp {
		return Conflict
	}
	return Duplicate
}

// encodeErased encodes ERASED_IDS: header, entries sorted by id, CRC.
func encodeErased(ids map[string]erasedID) []byte {
	keys := make([]string, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	b := append([]byte(erasedMagic), erasedVersion, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, id := range keys {
		x := ids[id]
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.AppendUvarint(b, x.seq)
		b = binary.AppendVarint(b, x.until)
		b = binary.AppendVarint(b, x.ts)
		b = binary.AppendUvarint(b, uint64(x.format))
		b = append(b, x.fp[:]...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeErased decodes ERASED_IDS, dropping entries expired before now.
func decodeErased(data []byte, now int64) (map[string]erasedID, error) {
	if len(data) < 16 || string(data[:4]) != erasedMagic {
		return nil, fmt.Errorf("%w: bad magic or short file", errErasedCorrupt)
	}
	if v := data[4]; v != erasedVersion || data[5]|data[6]|data[7] != 0 {
		return nil, fmt.Errorf("%w: version %d is not %d", errErasedCorrupt, v, erasedVersion)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errErasedCorrupt)
	}
	d := decbuf.New(body[8:], errErasedCorrupt)
	n := int(d.U32())
	ids := make(map[string]erasedID, min(n, d.Left()/(fingerprintN+5)))
	var prev string
	for i := 0; i < n && d.Err == nil; i++ {
		id := d.Str()
		x := erasedID{seq: d.Uvarint(), until: d.Varint(), ts: d.Varint(), format: event.Format(d.Uvarint())}
		copy(x.fp[:], d.Bytes(fingerprintN))
		if d.Err == nil && (id == "" || (i > 0 && id <= prev)) {
			d.Fail("entry %d: id empty or not after the previous one", i)
		}
		prev = id
		if x.until >= now {
			ids[id] = x
		}
	}
	d.End()
	if d.Err != nil {
		return nil, d.Err
	}
	return ids, nil
}

// loadErased reads ERASED_IDS at open; a missing file is an empty list.
func (db *DB) loadErased() error {
	data, err := vfs.ReadFile(db.opts.FS, filepath.Join(db.dir, erasedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("eventlog: read %s: %w", erasedFile, err)
	}
	ids, err := decodeErased(data, db.opts.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	db.erased.ids = ids
	return nil
}

// recordErasedSegment records the events with client ids of the live
// segment name, which retention is about to drop.
func (db *DB) recordErasedSegment(ctx context.Context, name string) error {
	segs, err := db.acquireSegments([]string{name})
	if err != nil {
		return err
	}
	defer segs[0].release()
	r := segs[0].r
	es, until := erasures{}, db.erasedUntil()
	rows, err := r.UnionTerms(event.ClientIDField, "", nil)
	if err == nil {
		err = eachRow(r, rows, func(s storedID) { es.add(s.seq, &s.ev, until) })
	}
	if err != nil {
		return fmt.Errorf("read the client ids of %s: %w", name, err)
	}
	return db.recordErased(es)
}

// recordErasedDelete records the events with client ids that the delete
// t hides (up to its Bound), before its tombstone is written.
func (db *DB) recordErasedDelete(ctx context.Context, t *tombstone) error {
	req := t.request()
	req.Filter = "(" + req.Filter + ") and " + event.ClientIDField + ":*"
	// Rows in damaged blocks are left out: repair brings them back hidden,
	// and the merge that purges them notes them then.
	req.AllowPartial = true
	es, until := erasures{}, db.erasedUntil()
	err := db.exportPages(ctx, req, func(h *query.Hit) error {
		if h.Seq <= t.Bound {
			es.add(h.Seq, &h.Event, until)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the client ids it erases: %w", err)
	}
	return db.recordErased(es)
}
