package segment

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// salvageFixture writes a 40-row segment of 5 blocks, every row with a
// ref, and returns its path, bytes and block index. It writes version 4:
// finding blocks is alike in every version, but from version 5 a block's
// refs need the key table and postings too, so damage to the footer,
// the table or the postings loses them (TestSalvageV5 covers that).
func salvageFixture(t *testing.T) (string, []byte, []blockMeta, []Row) {
	t.Helper()
	return salvageFixtureVersion(t, 4)
}

func salvageFixtureVersion(t *testing.T, version int) (string, []byte, []blockMeta, []Row) {
	t.Helper()
	rows := bigRows(40)
	path := filepath.Join(t.TempDir(), "s.seg")
	if _, err := Write(path, rows, WriteOptions{BlockRows: 8, Version: version}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocks := r.blocks
	r.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data, blocks, rows
}

func TestSalvage(t *testing.T) {
	path, orig, blocks, rows := salvageFixture(t)
	ft := decodeFooter(orig[len(orig)-footerLen:])
	type want struct {
		complete bool
		rows     int   // rows recovered
		lost     []int // lost block numbers
	}
	cases := map[string]struct {
		damage func(b []byte) []byte
		want   want
	}{
		"healthy":        {func(b []byte) []byte { return b }, want{true, 40, nil}},
		"block 2":        {func(b []byte) []byte { return flip(b, int(blocks[2].Off+3)) }, want{true, 32, []int{2}}},
		"last block":     {func(b []byte) []byte { return flip(b, int(blocks[4].Off+blocks[4].Len-1)) }, want{true, 32, []int{4}}},
		"postings":       {func(b []byte) []byte { return flip(b, int(ft.Postings.Off+5)) }, want{true, 40, nil}},
		"sequence index": {func(b []byte) []byte { return flip(b, int(ft.SeqIndex.Off)) }, want{true, 40, nil}},
		"header":         {func(b []byte) []byte { return flip(b, 0) }, want{true, 40, nil}},
		// The footer's CRC fails but its block index fields still lead to
		// the index: every block checks out against its own CRC.
		"footer events": {func(b []byte) []byte { return flip(b, len(b)-footerLen+60) }, want{false, 40, nil}},
		"footer zeroed": {func(b []byte) []byte { clear(b[len(b)-footerLen:]); return b }, want{false, 0, nil}},
		"truncated":     {func(b []byte) []byte { return b[:len(b)-footerLen-3] }, want{false, 0, nil}},
		"tiny":          {func(b []byte) []byte { return b[:20] }, want{false, 0, nil}},
		// A damaged last index entry: the blocks before it are kept.
		"block index end": {func(b []byte) []byte { return flip(b, int(ft.BlockIndex.Off+ft.BlockIndex.Len-2)) }, want{false, 32, nil}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			data := c.damage(append([]byte(nil), orig...))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Salvage(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Complete != c.want.complete || (res.IndexErr == nil) != c.want.complete {
				t.Fatalf("complete = %v (%v), want %v", res.Complete, res.IndexErr, c.want.complete)
			}
			if len(res.Rows) < c.want.rows || (c.want.complete && len(res.Rows) != c.want.rows) {
				t.Fatalf("recovered %d rows, want %d", len(res.Rows), c.want.rows)
			}
			checkSalvagedRows(t, res.Rows, rows)
			var lost []int
			for _, b := range res.Lost() {
				lost = append(lost, b.Index)
				if b.MinSeq != blocks[b.Index].MinSeq || b.MaxSeq != blocks[b.Index].MaxSeq || b.Rows != int(blocks[b.Index].Rows) {
					t.Errorf("lost block %d: seq %d..%d (%d rows), want %d..%d", b.Index, b.MinSeq, b.MaxSeq, b.Rows, blocks[b.Index].MinSeq, blocks[b.Index].MaxSeq)
				}
				if !errors.Is(b.Err, ErrCorrupt) {
					t.Errorf("lost block %d: %v is not corruption", b.Index, b.Err)
				}
			}
			if c.want.complete && !slices.Equal(lost, c.want.lost) {
				t.Fatalf("lost blocks %v, want %v", lost, c.want.lost)
			}
		})
	}
}

// checkSalvagedRows checks that every salvaged row is the original row
// with its sequence number.
func checkSalvagedRows(t *testing.T, got, orig []Row) {
	t.Helper()
	bySeq := map[uint64]Row{}
	for _, r := range orig {
		bySeq[r.Seq] = r
	}
	for _, r := range got {
		o, ok := bySeq[r.Seq]
		if !ok {
			t.Fatalf("salvaged seq %d was never written", r.Seq)
		}
		if jsonOf(r.Event) != jsonOf(o.Event) {
			t.Fatalf("seq %d: salvaged %s, wrote %s", r.Seq, jsonOf(r.Event), jsonOf(o.Event))
		}
		delete(bySeq, r.Seq)
	}
}

func TestSalvageMissingFile(t *testing.T) {
	_, err := Salvage(filepath.Join(t.TempDir(), "nope.seg"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

// FuzzSalvage treats arbitrary bytes as a damaged segment: Salvage must not
// panic, and whatever it returns must be rows of good blocks.
func FuzzSalvage(f *testing.F) {
	dir := f.TempDir()
	dec := newTestDecoder(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.seg")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Salvage(path, dec)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range res.Blocks {
			if b.Err == nil {
				n += b.Rows
			}
		}
		if n != len(res.Rows) {
			t.Fatalf("%d rows from good blocks, %d returned", n, len(res.Rows))
		}
	})
}
