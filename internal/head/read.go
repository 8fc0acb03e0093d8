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
	rows []Item // visible rows by row number
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
	n := sort.Search(len(h.rows), func(i int) bool { return h.rows[i].Seq > pub })
	return &Snapshot{h: h, rows: h.rows[:n:n]}
}

// Sorted returns every row of the head, published or not, in (@timestamp,
// sequence) order. Sealing uses it on a head that no longer takes inserts.
// Rows arrive nearly in @timestamp order, which pdqsort sorts in close to
// linear time; sequence numbers are unique, so the order is total.
func (h *Head) Sorted() []Item {
	h.mu.RLock()
	out := slices.Clone(h.rows)
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b Item) int { return match.Compare(a.Position, b.Position) })
	return out
}

// EachSeq calls fn, in sequence order, with every visible row whose
// sequence number is within [lo, hi], decoded. Rows are stored in sequence
// order, so this is a binary search and a walk.
func (s *Snapshot) EachSeq(lo, hi uint64, fn func(seq uint64, ev *event.Event)) error {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].Seq >= lo })
	for ; i < len(s.rows) && s.rows[i].Seq <= hi; i++ {
		ev, err := event.DecodeBinary(s.rows[i].Data)
		if err != nil {
			return fmt.Errorf("head: event %d: %w", s.rows[i].Seq, err)
		}
		fn(s.rows[i].Seq, &ev)
	}
	return nil
}
