package segment

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestAddCopiesEvent: Add keeps nothing of the caller's event, so a caller
// that reuses one event (and scribbles over everything it points to) right
// after each Add writes the same bytes as Write.
func TestAddCopiesEvent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rows := genRows(300).Draw(rt, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 50).Draw(rt, "block_rows")}
		dir := t.TempDir()
		if _, err := Write(filepath.Join(dir, "a.seg"), rows, opts); err != nil {
			rt.Fatal(err)
		}
		w, err := Create(filepath.Join(dir, "b.seg"), opts)
		if err != nil {
			rt.Fatal(err)
		}
		var ev event.Event
		for _, r := range rows {
			if ev, err = event.DecodeBinary(event.AppendBinary(nil, r.Event)); err != nil {
				rt.Fatal(err)
			}
			if err := w.Add(Row{Seq: r.Seq, Event: &ev}); err != nil {
				rt.Fatal(err)
			}
			scribble(&ev)
		}
		if _, err := w.Finish(); err != nil {
			rt.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(dir, "a.seg"))
		b, _ := os.ReadFile(filepath.Join(dir, "b.seg"))
		if !bytes.Equal(a, b) {
			rt.Fatal("segment written from a reused event differs from Write's")
		}
	})
}

// scribble overwrites every value e holds, in place where it points.
func scribble(e *event.Event) {
	e.Timestamp = event.Date{}
	for i := range slots {
		s := &slots[i]
		switch s.kind {
		case event.KindString, event.KindIP:
			*s.str(e) = "scribbled"
		case event.KindStrings:
			for j := range s.list(e).Values {
				s.list(e).Values[j] = "scribbled"
			}
		case event.KindDate:
			*s.date(e) = event.Date{}
		case event.KindInt:
			if p := *s.int(e); p != nil {
				*p = 12345
			}
		case event.KindFloat:
			if p := *s.float(e); p != nil {
				*p = 1.5
			}
		}
	}
	if d := e.Event.Duration; d != nil {
		d.Nanos, d.Quoted = 7, !d.Quoted
	}
	for k := range e.Labels {
		e.Labels[k] = "scribbled"
	}
	for j := range e.Kibana.SavedObjects {
		e.Kibana.SavedObjects[j] = event.SavedObject{ID: "scribbled"}
	}
}

// TestWriterReleased: a finished or aborted writer, whose scratch went back
// to the pool, refuses Add and Finish.
func TestWriterReleased(t *testing.T) {
	ev := event.Event{Timestamp: event.DateOf(time.Unix(1e9, 0)), Message: "m"}
	for name, end := range map[string]func(w *Writer) error{
		"finish": func(w *Writer) error { _, err := w.Finish(); return err },
		"abort":  func(w *Writer) error { w.Abort(); return nil },
	} {
		w, err := Create(filepath.Join(t.TempDir(), "seg"), WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(Row{Seq: 1, Event: &ev}); err != nil {
			t.Fatal(err)
		}
		if err := end(w); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := w.Add(Row{Seq: 2, Event: &ev}); err == nil {
			t.Errorf("%s: Add afterwards succeeded", name)
		}
		if _, err := w.Finish(); err == nil {
			t.Errorf("%s: Finish afterwards succeeded", name)
		}
	}
}

// TestKeepCopies: the strings a column keeps are equal to the values
// given, stay so while its text fills up and is replaced by a larger one
// (no earlier string moves), and share no bytes with the caller's; after
// a reset the next block's strings are again intact.
func TestKeepCopies(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var c colStage
		for block := range rapid.IntRange(1, 3).Draw(rt, "blocks") {
			vals := rapid.SliceOf(rapid.StringN(0, 3000, -1)).Draw(rt, "vals")
			kept := make([]string, len(vals))
			for i, v := range vals {
				b := []byte(v)
				kept[i] = c.keep(unsafe.String(unsafe.SliceData(b), len(b))) // b's own bytes
				clear(b)
			}
			for i, v := range vals {
				if kept[i] != v {
					rt.Fatalf("block %d value %d: kept %q, want %q", block, i, kept[i], v)
				}
			}
			c.reset()
		}
	})
}

// TestPresenceBitmap: the presence bitmap a column writes from the bits
// staged with its rows is the one its rows' masks give (bit i, LSB first,
// set when row i has the field), over blocks of up to 300 rows, so past
// the first 64-bit word.
func TestPresenceBitmap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		events := genRows(20).Draw(rt, "events")
		rows := make([]Row, rapid.IntRange(1, 300).Draw(rt, "rows"))
		var s blockStage
		for i := range rows {
			rows[i] = events[rapid.IntRange(0, len(events)-1).Draw(rt, "event")]
			m, _ := rowInfo(rows[i].Event)
			s.add(uint64(i), rows[i].Event, m)
		}
		for si := range slots {
			if !s.union.has(si) {
				continue
			}
			have := 0
			want := make([]byte, (len(rows)+7)/8)
			for i := range s.masks {
				if s.masks[i].has(si) {
					want[i/8] |= 1 << (i % 8)
					have++
				}
			}
			if have == len(rows) {
				want = []byte{0}
			} else {
				want = append([]byte{1}, want...)
			}
			if got := appendPresence(nil, &s.cols[si], len(rows)); !bytes.Equal(got, want) {
				rt.Fatalf("slot %d (%d of %d rows): presence %x, want %x", si, have, len(rows), got, want)
			}
		}
	})
}
