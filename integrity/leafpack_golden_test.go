package integrity

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// updateEnv regenerates the version 2 leaf file fixture when set to 1:
// INTEGRITY_UPDATE_GOLDEN=1 go test ./integrity -run TestLeafFileV2Golden
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
	if os.Getenv(updateEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
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
