package eventlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/segment"
)

// sealedEvents is enough events for two full leaf files (2^16 leaves
// each) and part of a third: the first two are sealed.
const sealedEvents = 2*integrity.LeavesPerFile + 5000

// sealedStore appends sealedEvents events in segments of 20,000, signs a
// head and seals the tiles of the full leaf files, checking what that
// packed.
func sealedStore(t *testing.T, dir string) *DB {
	t.Helper()
	db := mustOpen(t, dir, integrityOpts())
	for from := 0; from < sealedEvents; from += 20000 {
		appendN(t, db, from, min(20000, sealedEvents-from), 5000)
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	// The store's own goroutine may have sealed them already, after the
	// seals; PackSealed waits for it and does what is left.
	l, _ := db.Integrity()
	if _, err := l.PackSealed(); err != nil {
		t.Fatal(err)
	}
	if c := l.Cost(); c.Sealed != 2*integrity.LeavesPerFile {
		t.Fatalf("cost: %+v", c)
	}
	for _, f := range []string{"0000000000000000.leaves", "0000000000010000.leaves"} {
		if fi, err := os.Stat(filepath.Join(dir, IntegrityDir, "leaves", f)); err != nil || fi.Size() != 16+256*49 {
			t.Fatalf("%s: %v, %v; want %d bytes", f, fi.Size(), err, 16+256*49)
		}
	}
	return db
}

// proveOK proves the event seq and checks the proof against its head.
func proveOK(t *testing.T, db *DB, seq uint64) {
	t.Helper()
	p, err := db.ProveEvent(IDOf(seq), 0)
	if err != nil {
		t.Fatalf("prove seq %d: %v", seq, err)
	}
	d, _ := EventDigest(&p.Event)
	if err := integrity.VerifyInclusion(p.Proof, d, p.Head.Head); err != nil {
		t.Fatalf("proof of seq %d: %v", seq, err)
	}
}

// TestIntegritySealedTiles: once the events of two full leaf files are
// sealed, their tiles keep 49 bytes each; an event's inclusion proof,
// recomputed from the segments, still verifies against the signed head;
// a delete by query writes its tile's entries back first, so its
// neighbours and the deleted position keep their proofs; verify --chain
// is clean and recomputes every sealed tile; and a sealed tile's subtree
// hash changed in the leaf file (its CRC fixed up) is reported altered,
// naming the tile.
func TestIntegritySealedTiles(t *testing.T) {
	dir := t.TempDir()
	db := sealedStore(t, dir)
	for _, seq := range []uint64{1, 5001, 70000, sealedEvents} {
		proveOK(t, db, seq)
	}
	if _, err := db.Delete(ctx, DeleteRequest{Filter: "message:m5000"}); err != nil { // seq 5001, leaf 5000
		t.Fatal(err)
	}
	l, _ := db.Integrity()
	if c := l.Cost(); c.Sealed != 2*integrity.LeavesPerFile-integrity.TileLeaves {
		t.Fatalf("after the delete %d positions sealed, want the tile of the deleted one written back", c.Sealed)
	}
	proveOK(t, db, 5002)
	if _, err := l.Inclusion(5001, 0); err != nil {
		t.Fatalf("inclusion of the deleted position: %v", err)
	}
	db.Close()
	r := mustVerifyChain(t, dir)
	if r.ProblemCount != 0 || r.ErasedCount != 1 || len(r.Unchecked) != 0 || r.Leaves != sealedEvents+1 {
		t.Fatalf("verify: %+v", r)
	}

	// Change tile 3's stored subtree hash, with a valid CRC.
	path := filepath.Join(dir, IntegrityDir, "leaves", "0000000000000000.leaves")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := 16 + 3*49
	if b[rec] != 3 {
		t.Fatalf("tile 3 is of kind %d", b[rec])
	}
	b[rec+1+2+10] ^= 1
	binary.LittleEndian.PutUint32(b[rec+45:], crc32.Checksum(b[rec:rec+45], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustVerifyChain(t, dir)
	kinds := map[string]int{}
	for _, p := range r.Problems {
		kinds[p.Kind]++
		if p.Kind == "altered" && (p.Leaf != 768 || !strings.Contains(p.Detail, "leaves 768 to 1023")) {
			t.Fatalf("altered: %v", p)
		}
	}
	if kinds["altered"] != 1 || kinds["head-root"] == 0 {
		t.Fatalf("a changed sealed tile: %v", r.Problems)
	}
}

// TestIntegritySealedTileLoss: a repair that loses events under sealed
// tiles takes their neighbours' hashes below the tile with them. What
// that costs, and no more: the lost positions are reported lost, their
// tiles unchecked (not problems), the heads still check (roots need only
// the tiles' subtree hashes), events in untouched tiles still prove, and
// a proof of a neighbour fails with ErrSealedTile naming the event gone.
func TestIntegritySealedTileLoss(t *testing.T) {
	dir := t.TempDir()
	db := sealedStore(t, dir)
	first := segmentFiles(t, db)[0] // seqs 1 to 20,000
	db.Close()
	path := filepath.Join(dir, "segments", first)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) == 0 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	flipAt(t, path, int64(sal.Blocks[0].Off+3))
	rep, err := Repair(dir, RepairOptions{})
	if err != nil || rep.TreeLost == 0 {
		t.Fatalf("repair: %+v, %v", rep, err)
	}
	r := mustVerifyChain(t, dir)
	if r.ProblemCount != 0 || r.LostCount != rep.TreeLost || len(r.Unchecked) == 0 {
		t.Fatalf("verify after the loss: %d problems %v, %d lost, %d unchecked tiles", r.ProblemCount, r.Problems[:min(3, len(r.Problems))], r.LostCount, len(r.Unchecked))
	}
	var u UncheckedTile // one with stored events left
	for _, x := range r.Unchecked {
		if x.Last >= 20256 || x.Gone == 0 || x.Stored+x.Gone != integrity.TileLeaves {
			t.Fatalf("unchecked %v", x)
		}
		if x.Stored > 0 {
			u = x
		}
	}
	if u.Stored == 0 {
		t.Fatalf("no unchecked tile keeps a stored event: %v", r.Unchecked)
	}
	db = mustOpen(t, dir, integrityOpts())
	defer db.Close()
	proveOK(t, db, 30000) // a tile the loss did not touch
	l, _ := db.Integrity()
	var live uint64
	err = l.ReadLeaves(u.First, u.Last+1, func(_, seq uint64, _ integrity.Hash, _ [integrity.SaltSize]byte) {
		if live == 0 {
			if m, err := db.Get(ctx, IDOf(seq)); err == nil && len(m) == 1 {
				live = seq
			}
		}
	})
	if err != nil || live == 0 {
		t.Fatalf("no stored event in tile %v: %v", u, err)
	}
	_, err = db.ProveEvent(IDOf(live), 0)
	if !errors.Is(err, integrity.ErrSealedTile) || !strings.Contains(err.Error(), "is not stored") {
		t.Fatalf("proof of seq %d, a neighbour of lost events in a sealed tile: %v", live, err)
	}
}
