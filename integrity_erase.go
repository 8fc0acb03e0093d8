package eventlog

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/query"
)

// Erasure without breaking the proof: a delete by query or a retention
// drop removes events' content but not their leaves. With the tree kept,
// each records the exact sequence numbers it removed (a compacted
// segment's are not a range) as a roaring bitmap in integrity/ERASURES,
// under the sequence number of its own record event, so verify --chain
// reports each erased position and what erased it rather than a removal.
// A crash between the erasure and its record leaves those positions
// reported missing: unexplained, never hidden.

// erasedBy returns the sequence numbers t hides: the visible events it
// matches up to its bound. Deletes are serialized (deleteMu), and later
// appends are past the bound, so this is the set countDeleted counted.
// Nil without the tree.
func (db *DB) erasedBy(ctx context.Context, t *tombstone) (*roaring64.Bitmap, error) {
	if db.integrity == nil {
		return nil, nil
	}
	bm := roaring64.New()
	// As countDeleted, partial: a delete does not wait for a repair (the
	// damaged range's rows it hides later read as missing, not erased).
	// Unlike it, expired events count: the tombstone hides (and a purge
	// removes) them too.
	err := db.read(ctx, "", func(rs *readSnapshot) error {
		opts := query.Options{Now: db.opts.Now(), ParseFilter: db.opts.Pseudonymizer.ParseFilter, NoTotal: true}
		req := t.request()
		req.AllowPartial, req.PerPage = true, ExportPage
		for {
			res, err := query.Execute(ctx, rs.query(), req, opts)
			if err != nil {
				return err
			}
			for _, h := range res.Hits {
				if h.Seq <= t.Bound {
					bm.Add(h.Seq)
				}
			}
			if res.Next == "" {
				return nil
			}
			req.SearchAfter = res.Next
		}
	})
	return bm, err
}

// recordErasure stores what the delete or retention drop recorded by
// eraser removed.
func (db *DB) recordErasure(eraser uint64, kind integrity.ErasureKind, seqs *roaring64.Bitmap) error {
	if db.integrity == nil || seqs == nil {
		return nil
	}
	return db.integrity.RecordErasure(integrity.Erasure{Eraser: eraser, Kind: kind, Seqs: seqs})
}

// segmentSeqs returns the sequence numbers of the live segment name's
// rows, which a retention drop is about to erase. Nil without the tree; a
// segment that cannot be read (damaged) gives nil too, and its rows then
// read as missing, not erased: logged, as that is not the story the
// verifier should tell without proof.
func (db *DB) segmentSeqs(name string) *roaring64.Bitmap {
	if db.integrity == nil {
		return nil
	}
	for _, s := range db.state.Load().segments {
		if s.meta.Name != name {
			continue
		}
		bm := roaring64.New()
		err := s.r.Each(func(seq uint64, _ *event.Event) error {
			bm.Add(seq)
			return nil
		})
		if err != nil {
			db.log.Error("eventlog: retention: cannot list the rows of a segment it drops; verify --chain will report them missing, not erased", "segment", name, "err", err)
			return nil
		}
		return bm
	}
	return nil
}

// expiredSet returns an empty set for a merge to collect the expired
// events it leaves out; nil without the tree.
func (db *DB) expiredSet() *roaring64.Bitmap {
	if db.integrity == nil {
		return nil
	}
	return roaring64.New()
}

// recordExpired records the expired events a merge left out, once its
// output replaced its inputs. No event records a merge, so the erasure's
// eraser is 0: retention's age rule, applied by compaction. A failure is
// logged: the merge is done, and the positions then read as missing.
func (db *DB) recordExpired(seqs *roaring64.Bitmap) {
	if seqs == nil || seqs.IsEmpty() {
		return
	}
	if err := db.recordErasure(0, integrity.ErasedByRetention, seqs); err != nil {
		db.log.Error("eventlog: compaction: recording the expired events it left out failed; verify --chain will report them missing", "err", err)
	}
}
