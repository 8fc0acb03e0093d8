package head

import (
	"fmt"
	"slices"
	"sort"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Snapshot is a frozen view of the head: the rows published when it was
// taken. It is safe for concurrent use and needs no release.
type Snapshot struct {
	h    *Head
	rows rowPages // visible rows by row number
	keys snapshotKeys
}

// Snapshot freezes the currently published rows.
func (h *Head) Snapshot() *Snapshot { return h.SnapshotAt(h.published.Load()) }

// SnapshotAt freezes the rows with sequence numbers up to pub, which must
// not be above the published watermark. A reader of several heads and
// segments passes them all one watermark so they agree on what is visible.
func (h *Head) SnapshotAt(pub uint64) *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := sort.Search(h.rows.len(), func(i int) bool { return h.rows.at(i).Seq > pub })
	return &Snapshot{h: h, rows: h.rows.prefix(n)}
}

// Sorted returns every row of the head, published or not, in (@timestamp,
// sequence) order. Sealing uses it on a head that no longer takes inserts.
// The rows' Data is valid as long as h is reachable (it may be a mapped
// file's, Batch.Owner): the caller keeps h while it reads them.
// Rows arrive nearly in @timestamp order, which pdqsort sorts in close to
// linear time; sequence numbers are unique, so the order is total.
func (h *Head) Sorted() []Item {
	h.mu.RLock()
	rows := h.rows.prefix(h.rows.len())
	h.mu.RUnlock()
	out := make([]Item, 0, rows.len())
	for _, it := range rows.all {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b Item) int { return match.Compare(a.Position, b.Position) })
	return out
}

// EachSeq calls fn, in sequence order, with every visible row whose
// sequence number is within [lo, hi], decoded. Rows are stored in sequence
// order, so this is a binary search and a walk.
func (s *Snapshot) EachSeq(lo, hi uint64, fn func(seq uint64, ev *event.Event)) error {
	i := sort.Search(s.rows.len(), func(i int) bool { return s.rows.at(i).Seq >= lo })
	for ; i < s.rows.len() && s.rows.at(i).Seq <= hi; i++ {
		it := s.rows.at(i)
		ev, err := event.DecodeBinary(it.Data)
		if err != nil {
			return fmt.Errorf("head: event %d: %w", it.Seq, err)
		}
		fn(it.Seq, &ev)
	}
	return nil
}
