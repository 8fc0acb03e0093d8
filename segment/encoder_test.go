package segment

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestFastEncoderColumns: with a FastEncoder, every column FastColumn
// names is compressed by it and every other column (and so the sequence
// and @timestamp columns) by Encoder, each stored as that encoder's frame
// of its raw bytes, or raw when the frame is not shorter; without one,
// Encoder compresses them all. The rows read back alike either way.
func TestFastEncoderColumns(t *testing.T) {
	better, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(encoderWindow))
	if err != nil {
		t.Fatal(err)
	}
	defer better.Close()
	fast, err := NewEncoder(1)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	dir := t.TempDir()
	sawFast, sawOther := false, false
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(60).Draw(t, "rows")
		opts := WriteOptions{Encoder: better, BlockRows: rapid.IntRange(1, 32).Draw(t, "blockRows")}
		if rapid.Bool().Draw(t, "withFast") {
			opts.FastEncoder = fast
		}
		r := writeOpen(t, dir, rows, opts)
		defer r.Close()
		checkEvents(t, r, rows)
		for bi := range r.blocks {
			for ci := range r.blocks[bi].Cols {
				c := &r.blocks[bi].Cols[ci]
				raw, err := r.column(bi, c)
				if err != nil {
					t.Fatalf("block %d column %d: %v", bi, c.ID, err)
				}
				enc := better
				if opts.FastEncoder != nil && FastColumn(c.ID) {
					enc, sawFast = fast, true
				} else {
					sawOther = true
				}
				want, codec := enc.EncodeAll(raw, nil), uint8(codecZstd)
				if len(want) >= len(raw) {
					want, codec = raw, codecRaw
				}
				stored, err := r.span(r.blocks[bi].Off+c.Off, c.CLen)
				if err != nil {
					t.Fatal(err)
				}
				if c.Codec != codec || !bytes.Equal(stored, want) {
					t.Fatalf("block %d column %d (fast %v): codec %d, %d bytes; want codec %d, %d bytes", bi, c.ID, enc == fast, c.Codec, len(stored), codec, len(want))
				}
			}
		}
	})
	if !sawFast || !sawOther {
		t.Errorf("columns checked: fast %v, others %v", sawFast, sawOther)
	}
}

// TestFastColumnNames: every name fastColumnNames lists is a field whose
// column FastColumn names, and no other column is named.
func TestFastColumnNames(t *testing.T) {
	for _, name := range fastColumnNames {
		if f := event.FieldByName(name); f == nil || !FastColumn(f.ID) {
			t.Errorf("field %q: %v, not a fast column", name, f)
		}
	}
	n := 0
	for id := range 256 {
		if FastColumn(uint8(id)) {
			n++
		}
	}
	if n != len(fastColumnNames) || FastColumn(colSeq) || FastColumn(colTS) {
		t.Errorf("%d fast columns (sequence %v, @timestamp %v), want the %d named", n, FastColumn(colSeq), FastColumn(colTS), len(fastColumnNames))
	}
}
