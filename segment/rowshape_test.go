package segment

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestPropertyRowShapeAsRowInfo: the shape one event.RowDecoder reports
// for each of a run of random events gives the mask and size rowInfo
// finds by walking the event's fields.
func TestPropertyRowShapeAsRowInfo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		density := rapid.Float64Range(0, 1).Draw(t, "density")
		var dec event.RowDecoder
		for i, e := range rapid.SliceOfN(genEvent(density), 1, 6).Draw(t, "events") {
			got, err := dec.Decode(event.AppendBinary(nil, &e))
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			wantMask, wantSize := rowInfo(&e)
			if m := maskOf(dec.Shape()); m != wantMask {
				t.Fatalf("event %d: shape's mask %x, rowInfo's %x", i, m, wantMask)
			}
			if m, _ := rowInfo(got); m != wantMask {
				t.Fatalf("event %d: decoded event's mask %x, the event's %x", i, m, wantMask)
			}
			if size := dec.Shape().Size; size != wantSize {
				t.Fatalf("event %d: shape's size %d, rowInfo's %d", i, size, wantSize)
			}
		}
	})
}

// TestPropertyWriteWithShapes: rows given with the shapes their decoding
// found make the same file, byte for byte, as the rows alone, whose
// shapes the writer finds itself; with small blocks, so the sizes decide
// where blocks end.
func TestPropertyWriteWithShapes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows"), BlockBytes: rapid.IntRange(1, 4096).Draw(t, "blockBytes")}
		shaped := make([]Row, len(rows))
		decs := make([]event.RowDecoder, len(rows)) // one each: a row's event and shape must outlive its Add here
		for i, r := range rows {
			ev, err := decs[i].Decode(event.AppendBinary(nil, r.Event))
			if err != nil {
				t.Fatal(err)
			}
			shaped[i] = Row{Seq: r.Seq, Event: ev, Shape: decs[i].Shape()}
		}
		dir, err := os.MkdirTemp("", "segment-shapes")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		plain, withShapes := filepath.Join(dir, "plain"), filepath.Join(dir, "shaped")
		if _, err := Write(plain, rows, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := Write(withShapes, shaped, opts); err != nil {
			t.Fatal(err)
		}
		a, errA := os.ReadFile(plain)
		b, errB := os.ReadFile(withShapes)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Fatalf("files differ (%d and %d bytes; %v, %v)", len(a), len(b), errA, errB)
		}
	})
}
