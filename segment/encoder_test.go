package segment

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestFastEncoderColumns: with a FastEncoder, every column FastColumn
// names is compressed by it; with an EntropyEncoder, every column
// EntropyColumn names (and so the @timestamp column) by it; every other
// column (and so the sequence column) by Encoder, each stored as that
// encoder's frame of its raw bytes, or raw when the frame is not shorter.
// Without them, Encoder compresses them all. The rows read back alike
// either way.
func TestFastEncoderColumns(t *testing.T) {
	better, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(encoderWindow))
	if err != nil {
		t.Fatal(err)
	}
	defer better.Close()
	fast, entropy := fastAndEntropyEncoders(t)
	dir := t.TempDir()
	saw := map[*zstd.Encoder]bool{}
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(60).Draw(t, "rows")
		opts := WriteOptions{Encoder: better, BlockRows: rapid.IntRange(1, 32).Draw(t, "blockRows")}
		if rapid.Bool().Draw(t, "withFast") {
			opts.FastEncoder = fast
		}
		if rapid.Bool().Draw(t, "withEntropy") {
			opts.EntropyEncoder = entropy
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
				switch {
				case opts.FastEncoder != nil && FastColumn(c.ID):
					enc = fast
				case opts.EntropyEncoder != nil && EntropyColumn(c.ID):
					enc = entropy
				}
				saw[enc] = true
				want, codec := enc.EncodeAll(raw, nil), uint8(codecZstd)
				if len(want) >= len(raw) {
					want, codec = raw, codecRaw
				}
				stored, err := r.span(r.blocks[bi].Off+c.Off, c.CLen)
				if err != nil {
					t.Fatal(err)
				}
				if c.Codec != codec || !bytes.Equal(stored, want) {
					t.Fatalf("block %d column %d (fast %v, entropy %v): codec %d, %d bytes; want codec %d, %d bytes", bi, c.ID, enc == fast, enc == entropy, c.Codec, len(stored), codec, len(want))
				}
			}
		}
	})
	if !saw[fast] || !saw[entropy] || !saw[better] {
		t.Errorf("columns checked: fast %v, entropy %v, others %v", saw[fast], saw[entropy], saw[better])
	}
}

// TestEntropyEncoderShrinksSkewedBytes: a column of skewed bytes in which
// zstd's fastest matcher finds no repeats (random small varints, as the
// @timestamp deltas are) is stored raw by NewEncoder's SpeedFastest but
// compressed by SealEntropyEncoder; random bytes stay raw with either.
func TestEntropyEncoderShrinksSkewedBytes(t *testing.T) {
	fast, entropy := fastAndEntropyEncoders(t)
	rng := rand.New(rand.NewPCG(1, 2))
	skewed, random := make([]byte, 16<<10), make([]byte, 16<<10)
	for i := range skewed {
		skewed[i] = byte(rng.IntN(16)) // 4 bits of entropy a byte
		random[i] = byte(rng.Uint32())
	}
	if n := len(fast.EncodeAll(skewed, nil)); n < len(skewed) {
		t.Errorf("SpeedFastest shrank skewed bytes to %d of %d: the test no longer shows what entropy coding adds", n, len(skewed))
	}
	if n := len(entropy.EncodeAll(skewed, nil)); n > len(skewed)*5/8 {
		t.Errorf("entropy encoder: skewed bytes take %d of %d, want at most 5/8", n, len(skewed))
	}
	if n := len(entropy.EncodeAll(random, nil)); n < len(random) {
		t.Errorf("entropy encoder shrank random bytes to %d of %d", n, len(random))
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

// TestBetterColumnNames: every name betterColumnNames lists is a field
// whose column neither FastColumn nor EntropyColumn names; so is the
// sequence column; every other column is FastColumn's or EntropyColumn's,
// not both.
func TestBetterColumnNames(t *testing.T) {
	better := map[uint8]bool{colSeq: true}
	for _, name := range betterColumnNames {
		f := event.FieldByName(name)
		if f == nil {
			t.Fatalf("better column %q is no field", name)
		}
		better[f.ID] = true
	}
	for id := range 256 {
		fast, entropy := FastColumn(uint8(id)), EntropyColumn(uint8(id))
		if better[uint8(id)] != (!fast && !entropy) || (fast && entropy) {
			t.Errorf("column %d: better %v, fast %v, entropy %v", id, better[uint8(id)], fast, entropy)
		}
	}
	if !EntropyColumn(colTS) {
		t.Error("the @timestamp column is not EntropyColumn's")
	}
}

// fastAndEntropyEncoders returns a NewEncoder encoder, closed when t ends,
// and the process's SealEntropyEncoder.
func fastAndEntropyEncoders(t *testing.T) (fast, entropy *zstd.Encoder) {
	t.Helper()
	fast, err := NewEncoder(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fast.Close() })
	entropy, err = SealEntropyEncoder()
	if err != nil {
		t.Fatal(err)
	}
	return fast, entropy
}
