package segment

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestEachSeqRange: consecutive ranges (of any width, bounds on or between
// sequence numbers) yield every row once, in sequence order, with its
// event; and EachSeqRange stops at fn's first error.
func TestEachSeqRange(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")})
		defer r.Close()
		want := bySeq(rows)
		width := uint64(rapid.IntRange(1, 50).Draw(t, "width"))
		i := 0
		for lo := want[0].Seq - uint64(rapid.IntRange(0, 5).Draw(t, "before")); lo <= want[len(want)-1].Seq; lo += width {
			err := r.EachSeqRange(lo, lo+width-1, func(seq uint64, ev *event.Event) error {
				if i == len(want) || seq != want[i].Seq || jsonOf(ev) != jsonOf(want[i].Event) {
					t.Fatalf("range [%d, %d], yield %d: seq %d %s", lo, lo+width-1, i, seq, jsonOf(ev))
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatalf("EachSeqRange(%d, %d): %v", lo, lo+width-1, err)
			}
		}
		if i != len(want) {
			t.Fatalf("ranges yielded %d rows, want %d", i, len(want))
		}
		stop := errors.New("stop")
		n := rapid.IntRange(1, len(rows)).Draw(t, "stopAfter")
		i = 0
		err := r.EachSeqRange(0, want[len(want)-1].Seq, func(uint64, *event.Event) error {
			if i++; i == n {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || i != n {
			t.Fatalf("EachSeqRange returned %v after %d rows, want stop after %d", err, i, n)
		}
	})
}

// TestEachSeqRangeOutside: ranges outside the segment's sequence numbers,
// or empty, yield nothing.
func TestEachSeqRangeOutside(t *testing.T) {
	rows := []Row{{Seq: 10, Event: &event.Event{}}, {Seq: 12, Event: &event.Event{}}}
	r := writeOpen(t, t.TempDir(), rows, WriteOptions{})
	defer r.Close()
	for _, rg := range [][2]uint64{{0, 9}, {13, 100}, {11, 11}, {12, 10}} {
		err := r.EachSeqRange(rg[0], rg[1], func(seq uint64, _ *event.Event) error {
			t.Fatalf("range %v yielded %d", rg, seq)
			return nil
		})
		if err != nil {
			t.Fatalf("range %v: %v", rg, err)
		}
	}
}

// TestSeqCursor: a cursor walked over ranges of varying widths, with any
// budget of pending rows, yields every row once, in sequence order, with
// its event, and keeps no more rows than its budget.
func TestSeqCursor(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")})
		defer r.Close()
		want := bySeq(rows)
		budget := rapid.IntRange(0, 50).Draw(t, "budget")
		c := r.SeqCursor(want[0].Seq - uint64(rapid.IntRange(0, 5).Draw(t, "before")))
		i := 0
		for c.Next() <= want[len(want)-1].Seq {
			hi := c.Next() + uint64(rapid.IntRange(0, 20).Draw(t, "width"))
			err := c.Each(hi, budget, func(seq uint64, ev *event.Event) error {
				if i == len(want) || seq != want[i].Seq || jsonOf(ev) != jsonOf(want[i].Event) {
					t.Fatalf("range to %d, yield %d: seq %d %s", hi, i, seq, jsonOf(ev))
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatalf("Each(%d): %v", hi, err)
			}
			if c.Next() != hi+1 || c.Pending() > budget {
				t.Fatalf("after Each(%d): next %d, %d pending (budget %d)", hi, c.Next(), c.Pending(), budget)
			}
		}
		if i != len(want) || c.Pending() != 0 {
			t.Fatalf("cursor yielded %d rows, want %d; %d still pending", i, len(want), c.Pending())
		}
	})
}
