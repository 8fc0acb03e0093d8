package integrity

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// Cost is what the integrity data costs on disk, as the store's statistics
// report it beside the events' own bytes.
type Cost struct {
	// Leaves is the tree's size; Erased how many of its positions a
	// recorded delete, retention drop, repair or restore erased or lost
	// (their leaves stay); Compacted how many of those are in tiles
	// packed to their subtree hash (compact.go).
	Leaves    uint64 `json:"leaves"`
	Erased    uint64 `json:"erased"`
	Compacted uint64 `json:"compacted"`
	// Sealed is how many live positions are in sealed tiles: their leaves
	// are recomputed from the segments (sealed.go).
	Sealed uint64 `json:"sealed"`
	// LeafBytes is the leaf log's size (a 16-byte header per file of 2^16
	// leaves, 44 bytes per leaf, live or erased, but 1 byte per tile of
	// 256 leaves and 39 + 10 per run of sequence numbers for a packed or
	// sealed tile), HeadBytes the signed heads', ErasureBytes the erasure
	// records'.
	LeafBytes    int64 `json:"leaf_bytes"`
	HeadBytes    int64 `json:"head_bytes"`
	ErasureBytes int64 `json:"erasure_bytes"`
	// BytesPerLeaf is LeafBytes per position, live or erased; BytesPerErased
	// is ErasureBytes per erased position, what an erased or lost event
	// costs on top of its leaf (0 without leaves or erasures).
	BytesPerLeaf   float64 `json:"bytes_per_leaf"`
	BytesPerErased float64 `json:"bytes_per_erased"`
	// BytesPerLiveEvent is the leaf log's bytes per live position (an
	// entry, 44 bytes, and its share of the headers); BytesPerErasedEvent
	// what an erased position costs in all: its entry (44 bytes) or its
	// share of a packed tile, plus its share of the erasure records.
	BytesPerLiveEvent   float64 `json:"bytes_per_live_event"`
	BytesPerErasedEvent float64 `json:"bytes_per_erased_event"`
}

// erasedSet tracks the positions erasure records name, and the records'
// bytes, so Cost needs no read of the file.
type erasedSet struct {
	seqs *roaring64.Bitmap
	// purposed holds the positions erased on purpose (delete,
	// retention): what compaction may pack.
	purposed *roaring64.Bitmap
	bytes    int64
}

// loadErasedSet reads the erasures file once, at open. A damaged file
// does not stop the store: it is logged, counted as no erasure here, and
// verify --chain reports it.
func loadErasedSet(l *Log) error {
	l.erased = erasedSet{seqs: roaring64.New(), purposed: roaring64.New()}
	es, err := readErasures(l.opts.FS, filepath.Join(l.dir, ErasuresFile), l.opts.Logger)
	if err != nil {
		l.opts.Logger.Error("integrity: the erasures file is unreadable; the statistics count no erasure, and verify --chain reports it", "err", err)
	}
	for _, e := range es {
		l.erased.note(e)
		l.markForPacking(e) // the signing goroutine packs what it can
	}
	st, err := l.opts.FS.Stat(filepath.Join(l.dir, ErasuresFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err == nil {
		l.erased.bytes = st.Size()
	}
	return nil
}

func (s *erasedSet) note(e Erasure) {
	if e.Kind != ForkRecorded {
		s.seqs.Or(e.Seqs)
	}
	if e.Kind == ErasedByDelete || e.Kind == ErasedByRetention {
		s.purposed.Or(e.Seqs)
	}
}

// Cost returns what the integrity data costs on disk now.
func (l *Log) Cost() Cost {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := Cost{Leaves: l.tree.size, Erased: l.erased.seqs.GetCardinality(), ErasureBytes: l.erased.bytes}
	c.LeafBytes = l.leaves.bytes() + int64(len(l.leaves.buf))
	c.HeadBytes = l.heads.end
	packedBytes := int64(0)
	c.Compacted, packedBytes = l.leaves.packedLeaves(false)
	c.Sealed, _ = l.leaves.packedLeaves(true)
	if c.Leaves > 0 {
		c.BytesPerLeaf = float64(c.LeafBytes) / float64(c.Leaves)
	}
	// Erased positions not packed cost an entry each; erasure records may
	// name events that have no leaf (stored before the tree was kept),
	// hence the bounds.
	erased := min(c.Erased, c.Leaves)
	erasedBytes := int64(erased-min(c.Compacted, erased))*EntrySize + packedBytes
	if erased > 0 {
		c.BytesPerErased = float64(c.ErasureBytes) / float64(c.Erased)
		c.BytesPerErasedEvent = float64(erasedBytes+c.ErasureBytes) / float64(erased)
	}
	if live := c.Leaves - erased; live > 0 {
		c.BytesPerLiveEvent = float64(max(c.LeafBytes-erasedBytes, 0)) / float64(live)
	}
	return c
}
