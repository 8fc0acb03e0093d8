package eventlog

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
)

// The leaf log's sealed tiles (integrity/sealed.go) keep only the subtree
// hash of 256 live leaves whose events are sealed: the events in the
// segments give their leaves back. leafSource is what the integrity log
// reads them through: the live segments the manifest names (never the
// heads: an event only in the WAL is not sealed), in sequence order
// through the sequence index, leaving out what a delete hides.

// leafSource reads the stored events' digests for the integrity log.
type leafSource struct{ db *DB }

func (s leafSource) SealedSeq() uint64 { return s.db.sealedSeq() }

func (s leafSource) Digests() integrity.DigestReader {
	return &digestReader{db: s.db}
}

// digestReader keeps one sequence cursor per segment across its reads, so
// a packing pass over a leaf file's 2^16 events reads each block once.
type digestReader struct {
	db      *DB
	cursors tailCursors
	buf     []byte
}

// errLeafSourceClosed says the store is closing: reads stop.
var errLeafSourceClosed = integrity.ErrSourceClosed

// Read implements integrity.DigestReader. It takes the readers' lock
// without waiting (TryRLock): Close holds it while it closes the
// integrity log, which may be inside a proof that reads here.
func (r *digestReader) Read(lo, hi uint64, fn func(seq uint64, d integrity.Hash, segment string)) error {
	db := r.db
	if !db.readers.TryRLock() {
		return errLeafSourceClosed
	}
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return errLeafSourceClosed
	}
	pub := db.published.Load()
	tombs := db.tombs.Load().upTo(pub)
	holds := db.liveHolds()
	v := db.acquireView()
	defer v.close()
	var segs []*liveSegment
	for _, s := range v.segments {
		if s.meta.MaxSeq >= lo && s.meta.MinSeq <= hi {
			segs = append(segs, s)
		}
	}
	type found struct {
		seq uint64
		d   integrity.Hash
		seg string
	}
	var out []found
	for i, c := range r.cursors.next(segs, lo) {
		name := segs[i].meta.Name
		err := c.Each(hi, tailWindow/max(1, len(segs)), func(seq uint64, ev *event.Event) error {
			if !holds.erases(tombs, seq, ev) {
				r.buf = event.AppendBinary(r.buf[:0], ev)
				out = append(out, found{seq: seq, d: integrity.Digest(r.buf), seg: name})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("segment %s: %w", name, err)
		}
	}
	if len(segs) > 1 { // each segment gave its part in order
		slices.SortFunc(out, func(a, b found) int { return cmp.Compare(a.seq, b.seq) })
	}
	for _, f := range out {
		fn(f.seq, f.d, f.seg)
	}
	return nil
}

func (r *digestReader) Close() { r.cursors = nil }

// unpackLeaves gives their leaf entries back to the sealed tiles holding
// seqs, while their events are still stored: called before a delete,
// retention drop or merge erases them (integrity.Log.Unpack).
func (db *DB) unpackLeaves(seqs *roaring64.Bitmap) error {
	if db.integrity == nil || seqs == nil || seqs.IsEmpty() {
		return nil
	}
	return db.integrity.Unpack(seqs)
}
