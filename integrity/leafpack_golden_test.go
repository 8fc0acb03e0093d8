package integrity

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// updateEnv regenerates the leaf file fixtures (versions 2 and 3) when
// set to 1: INTEGRITY_UPDATE_GOLDEN=1 go test ./integrity -run 'TestLeafFileV[23]Golden'
// (version 2's is released: regenerate it only to check it is unchanged)
const updateEnv = "INTEGRITY_UPDATE_GOLDEN"

// goldenTile is tile t of the fixture: two runs, a hash of its number.
func goldenTile(t int) (runs [2][2]uint64, hash Hash) {
	first := 1 + uint64(t)*400
	return [2][2]uint64{{first, 200}, {first + 250, 56}}, sha256.Sum256(fmt.Appendf(nil, "tile %d", t))
}

// TestLeafFileV2Golden: the released version 2 form (every tile packed,
// two runs each) decodes to what the fixture was made from, byte for
// byte as FORMAT.md describes it, and this build writes the same bytes.
func TestLeafFileV2Golden(t *testing.T) {
	path := filepath.Join("testdata", "leaves-v2", "0000000000000000.leaves")
	tiles := make([]*packedTile, LeavesPerFile/tileLeaves)
	for i := range tiles {
		runs, h := goldenTile(i)
		tiles[i] = &packedTile{runs: []seqRun{{first: runs[0][0], n: uint16(runs[0][1])}, {first: runs[1][0], n: uint16(runs[1][1])}}, hash: h}
	}
	enc := encodePackedFile(tiles, make([][]byte, len(tiles)))
	b := goldenFixture(t, path, enc)
	if want := 16 + len(tiles)*(1+2+2*10+32+4); len(b) != want {
		t.Fatalf("fixture of %d bytes, FORMAT.md makes it %d", len(b), want)
	}
	if string(b) != string(enc) {
		t.Fatal("this build writes the fixture's tiles differently")
	}
	got, last, err := decodePackedFile(b, 0, 0, func(uint64, Hash, int) {})
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range got {
		runs, h := goldenTile(i)
		p := ti.packed
		if p == nil || p.hash != h || p.seqAt(0) != runs[0][0] || p.seqAt(199) != runs[0][0]+199 || p.seqAt(200) != runs[1][0] || p.lastSeq() != runs[1][0]+55 {
			t.Fatalf("tile %d decodes to %+v", i, p)
		}
	}
	if runs, _ := goldenTile(len(got) - 1); last != runs[1][0]+55 {
		t.Fatalf("last seq %d", last)
	}
}

// goldenV3 is the version 3 fixture's content: tile 0 of entries (seq
// 1..256, hashes of their number), tile 1 packed as wholly erased (seq
// 257..512), and every later tile sealed (one run each, 256 on from the
// last, a hash of its number).
func goldenV3() ([]*packedTile, [][]byte) {
	perFile := LeavesPerFile / tileLeaves
	tiles := make([]*packedTile, perFile)
	entries := make([][]byte, perFile)
	for i := range tileLeaves {
		entries[0] = appendEntry(entries[0], uint64(1+i), sha256.Sum256(fmt.Appendf(nil, "leaf %d", i)))
	}
	for t := 1; t < perFile; t++ {
		tiles[t] = &packedTile{runs: []seqRun{{first: 1 + uint64(t)*tileLeaves, n: tileLeaves}}, hash: sha256.Sum256(fmt.Appendf(nil, "tile %d", t)), sealed: t > 1}
	}
	return tiles, entries
}

// TestLeafFileV3Golden: the version 3 form (entries, packed and sealed
// tiles) decodes to what the fixture was made from, byte for byte as
// FORMAT.md describes it, and this build writes the same bytes; the
// version 2 reader's rule holds (a sealed tile in a version 2 file is
// refused).
func TestLeafFileV3Golden(t *testing.T) {
	path := filepath.Join("testdata", "leaves-v3", "0000000000000000.leaves")
	tiles, entries := goldenV3()
	enc := encodePackedFile(tiles, entries)
	b := goldenFixture(t, path, enc)
	if want := 16 + (1 + 256*44) + (len(tiles)-1)*(1+2+10+32+4); len(b) != want {
		t.Fatalf("fixture of %d bytes, FORMAT.md makes it %d", len(b), want)
	}
	if string(b) != string(enc) {
		t.Fatal("this build writes the fixture's tiles differently")
	}
	if v, err := checkFileHeaderUpTo(b, leafMagic, leafVersion, leafVersionSealed); err != nil || v != 3 {
		t.Fatalf("header: version %d, %v", v, err)
	}
	var visits []int
	got, last, err := decodePackedFile(b, 0, 0, func(_ uint64, _ Hash, n int) { visits = append(visits, n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != tileLeaves+len(tiles)-1 || last != LeavesPerFile {
		t.Fatalf("%d visits, last seq %d", len(visits), last)
	}
	for i, ti := range got {
		want := tiles[i]
		switch {
		case i == 0:
			if ti.packed != nil || ti.off != 17 {
				t.Fatalf("tile 0: %+v", ti)
			}
		case ti.packed == nil || ti.packed.sealed != want.sealed || ti.packed.hash != want.hash || ti.packed.seqAt(0) != want.runs[0].first:
			t.Fatalf("tile %d decodes to %+v", i, ti.packed)
		}
	}
	v2 := slices.Clone(b)
	copy(v2, appendFileHeader(nil, leafMagic, leafVersionPacked))
	if _, _, err := decodePackedFile(v2, 0, 0, func(uint64, Hash, int) {}); err == nil || !strings.Contains(err.Error(), "sealed tile in a version 2 file") {
		t.Fatalf("a sealed tile in a version 2 file: %v", err)
	}
}

// goldenFixture returns the fixture at path, first written from enc when
// updateEnv is 1.
func goldenFixture(t *testing.T, path string, enc []byte) []byte {
	t.Helper()
	if os.Getenv(updateEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return mustRead(t, path)
}
