package segment

import (
	"os"
	"slices"
	"testing"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// TestSalvageDamagedIndex damages the footer and block index and checks
// that every intact block's rows come back, and that what is lost is named
// exactly: the fixture's 5 blocks of 8 rows are all intact unless a case
// damages one.
func TestSalvageDamagedIndex(t *testing.T) {
	path, orig, blocks, rows := salvageFixture(t)
	ft := decodeFooter(orig[len(orig)-footerLen:])
	bi := int(ft.BlockIndex.Off)
	entry2 := entryOffset(t, orig[bi:bi+int(ft.BlockIndex.Len)], 2) + bi
	type want struct {
		complete  bool
		corrected int
		rows      int
		lost      []SalvagedBlock // Off, Len, Rows, MinSeq, MaxSeq compared
	}
	b2 := blocks[2]
	lost2 := SalvagedBlock{Off: b2.Off, Len: b2.Len, Rows: int(b2.Rows), MinSeq: b2.MinSeq, MaxSeq: b2.MaxSeq}
	gap2 := SalvagedBlock{Off: b2.Off, Len: b2.Len, Rows: -1}
	cases := map[string]struct {
		damage func(b []byte) []byte
		want   want
	}{
		"footer magic":     {func(b []byte) []byte { return flipBit(b, len(b)-3, 6) }, want{true, 0, 40, nil}},
		"footer events":    {func(b []byte) []byte { return flipBit(b, len(b)-footerLen+60, 2) }, want{true, 1, 40, nil}},
		"footer crc field": {func(b []byte) []byte { return flipBit(b, len(b)-footerLen+footerCRCAt+1, 0) }, want{true, 1, 40, nil}},
		"index entry bit":  {func(b []byte) []byte { return flipBit(b, entry2+1, 7) }, want{true, 1, 40, nil}},
		"index and footer magic": {func(b []byte) []byte {
			return flipBit(flipBit(b, entry2+3, 1), len(b)-1, 0)
		}, want{true, 1, 40, nil}},
		// Two flips defeat correction; the scan tries the entry where
		// block 1 ended.
		"index entry offset two bits": {func(b []byte) []byte {
			return flipBit(flipBit(b, entry2, 0), entry2+1, 0)
		}, want{false, 0, 40, nil}},
		"index entry zeroed": {func(b []byte) []byte {
			clear(b[entry2 : entry2+12])
			return b
		}, want{false, 0, 32, []SalvagedBlock{gap2}}},
		// The entry is readable but its block is not: lost exactly.
		"index two bits and block 2": {func(b []byte) []byte {
			b = flipBit(flipBit(b, bi, 1), bi, 2) // the entry count
			return flipBit(b, int(b2.Off+5), 0)
		}, want{false, 0, 32, []SalvagedBlock{lost2}}},
		"footer zeroed": {func(b []byte) []byte { clear(b[len(b)-footerLen:]); return b }, want{false, 0, 40, nil}},
		"footer gone":   {func(b []byte) []byte { return b[:len(b)-footerLen-3] }, want{false, 0, 40, nil}},
		"footer zeroed and block 2": {func(b []byte) []byte {
			clear(b[len(b)-footerLen:])
			return flipBit(b, int(b2.Off+5), 0)
		}, want{false, 0, 32, []SalvagedBlock{gap2}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, c.damage(slices.Clone(orig)), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Salvage(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Complete != c.want.complete || len(res.Corrected) != c.want.corrected || len(res.Rows) != c.want.rows {
				t.Fatalf("complete %v, corrected %q, %d rows (%v); want %v, %d corrections, %d rows",
					res.Complete, res.Corrected, len(res.Rows), res.IndexErr, c.want.complete, c.want.corrected, c.want.rows)
			}
			checkSalvagedRows(t, res.Rows, rows)
			var lost []SalvagedBlock
			for _, b := range res.Lost() {
				lost = append(lost, SalvagedBlock{Off: b.Off, Len: b.Len, Rows: b.Rows, MinSeq: b.MinSeq, MaxSeq: b.MaxSeq})
			}
			if !slices.Equal(lost, c.want.lost) {
				t.Fatalf("lost %+v, want %+v", lost, c.want.lost)
			}
		})
	}
}

// TestSalvageEveryIndexBit flips each bit of the block index and footer in
// turn: every row comes back each time.
func TestSalvageEveryIndexBit(t *testing.T) {
	path, orig, _, rows := salvageFixture(t)
	ft := decodeFooter(orig[len(orig)-footerLen:])
	for off := int(ft.BlockIndex.Off); off < len(orig); off++ {
		if off == int(ft.BlockIndex.Off+ft.BlockIndex.Len) {
			off = len(orig) - footerLen // skip postings and sequence index
		}
		for bit := range 8 {
			if err := os.WriteFile(path, flipBit(slices.Clone(orig), off, bit), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Salvage(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != len(rows) || len(res.Lost()) != 0 {
				t.Fatalf("bit %d of byte %d: %d of %d rows, lost %+v", bit, off, len(res.Rows), len(rows), res.Lost())
			}
			checkSalvagedRows(t, res.Rows, rows)
		}
	}
}

func flipBit(b []byte, off, bit int) []byte {
	b[off] ^= 1 << bit
	return b
}

// entryOffset returns where entry i starts in the block index raw.
func entryOffset(t *testing.T, raw []byte, i int) int {
	t.Helper()
	d := decbuf.New(raw, errInvalid)
	d.Uvarint()
	for range i {
		var b blockMeta
		decodeBlockMeta(&d, &b)
	}
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	return d.Off
}
