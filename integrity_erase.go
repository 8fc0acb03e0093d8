package eventlog

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/query"
)

// Erasure without breaking the proof: a delete by query removes events'
// content but not their leaves. With the tree kept, the delete records
// the exact sequence numbers it hid (a compacted segment's are not a
// range) as a roaring bitmap in integrity/ERASURES, under the sequence
// number of its own record event, so verify --chain reports each erased
// position and what erased it rather than a removal.

// erasedBy returns the sequence numbers t hides: the visible events it
// matches up to its bound. Deletes are serialized (deleteMu), and later
// appends are past the bound, so this is the set countDeleted counted.
// Nil without the tree.
func (db *DB) erasedBy(ctx context.Context, t *tombstone) (*roaring64.Bitmap, error) {
	if db.integrity == nil {
		return nil, nil
	}
	bm := roaring64.New()
	err := db.Export(ctx, t.request(), func(h query.Hit) error {
		if h.Seq <= t.Bound {
			bm.Add(h.Seq)
		}
		return nil
	})
	return bm, err
}

// recordErasure stores what the delete recorded by eraser hid.
func (db *DB) recordErasure(eraser uint64, seqs *roaring64.Bitmap) error {
	if db.integrity == nil || seqs == nil {
		return nil
	}
	return db.integrity.RecordErasure(integrity.Erasure{Eraser: eraser, Kind: integrity.ErasedByDelete, Seqs: seqs})
}
