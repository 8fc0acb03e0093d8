package eventlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
)

// compactedStore builds a store of 66,000 events (one full leaf file and
// part of a second), deletes all but ten of the first 60,000, signs heads
// before (one at 30,000, inside a tile) and after, and packs what
// integrity compact may. It returns the directory, the heads and the
// sequence numbers kept among the deleted range.
func compactedStore(t *testing.T) (string, []integrity.SignedHead, []uint64) {
	t.Helper()
	dir := t.TempDir()
	db := mustOpen(t, dir, integrityOpts())
	var kept []uint64
	for i := 0; i < 66000; i += 1000 {
		evs := make([]Event, 1000)
		for j := range evs {
			action := "drop"
			if n := i + j; n >= 60000 || (n >= 1000 && n < 1010) {
				action = "keep"
			}
			evs[j] = ev("p", action, "2026-01-02T10:00:00Z")
			evs[j].Message = fmt.Sprintf("m%d", i+j)
		}
		res, err := db.Append(ctx, evs...)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1000 {
			for j := range 10 { // events 1000..1009
				kept = append(kept, res.FirstSeq+uint64(j))
			}
		}
		if i == 29000 {
			if _, err := db.SignHead(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, DeleteRequest{Filter: `event.action:drop`}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	l, _ := db.Integrity()
	st, err := l.CompactErased()
	if err != nil {
		t.Fatal(err)
	}
	// Leaves 0..65535 are the full file. Of tiles 0..233 (wholly below
	// leaf 60,000), tile 3 (768..1023, holding the kept events) and tile
	// 117 (the head at 30,000 falls inside it) stay; the rest is erased
	// whole and covered by the later heads.
	if want := 234 - 2; st.Tiles != want {
		t.Fatalf("packed %d tiles, want %d", st.Tiles, want)
	}
	heads := l.Heads(0, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, heads, kept
}

// TestIntegrityCompactVerify: after packing, verify --chain is clean,
// still names every erased position with the delete that erased it, every
// kept event's inclusion proof verifies against every head covering it,
// consistency proofs between heads verify, and changing a packed tile's
// subtree hash (its CRC fixed) is caught against the heads.
func TestIntegrityCompactVerify(t *testing.T) {
	dir, heads, kept := compactedStore(t)
	r := mustVerifyChain(t, dir)
	if r.ProblemCount != 0 || r.ErasedCount != 59990 || r.Leaves != 66001 { // and the delete's record event
		t.Fatalf("verify after compaction: %d problems (%v), %d erased, %d leaves", r.ProblemCount, r.Problems, r.ErasedCount, r.Leaves)
	}
	for _, e := range r.Erased {
		if e.By != "delete" || e.Eraser == 0 {
			t.Fatalf("erased position reported as %v", e)
		}
	}
	db := mustOpen(t, dir, Options{ReadOnly: true, Integrity: true, AllowUnregistered: true})
	l, _ := db.Integrity()
	checkCompactedCost(t, dir, db.Stats().Integrity)
	for _, h := range heads {
		if err := h.Verify(l.PublicKey()); err != nil {
			t.Fatal(err)
		}
		for _, seq := range kept {
			p, err := db.ProveEvent(IDOf(seq), h.Size)
			if err != nil {
				t.Fatalf("prove kept event %d in %d: %v", seq, h.Size, err)
			}
			doc := integrity.NewProofDoc(p.ID, &p.Event, p.Proof, &h)
			if err := doc.Verify(h.Head); err != nil {
				t.Fatalf("kept event %d in %d: %v", seq, h.Size, err)
			}
		}
		for _, h2 := range heads {
			if h2.Size < h.Size {
				continue
			}
			hs, err := l.Consistency(h.Size, h2.Size)
			if err == nil {
				err = integrity.VerifyConsistency(h.Head, h2.Head, hs)
			}
			if err != nil {
				t.Fatalf("consistency %d to %d: %v", h.Size, h2.Size, err)
			}
		}
	}
	db.Close()

	// Tamper: tile 0 is packed; change its subtree hash and fix the CRC.
	path := filepath.Join(dir, IntegrityDir, "leaves", "0000000000000000.leaves")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[16] != 2 {
		t.Fatalf("tile 0 is of kind %d, not packed", b[16])
	}
	runs := int(binary.LittleEndian.Uint16(b[17:]))
	rec := b[16 : 16+1+2+runs*10+32+4]
	rec[1+2+runs*10] ^= 1
	binary.LittleEndian.PutUint32(rec[len(rec)-4:], crc32.Checksum(rec[:len(rec)-4], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustVerifyChain(t, dir)
	if got := problemsOf(r, "head-root"); len(got) != len(heads) || r.ProblemCount != len(heads) {
		t.Fatalf("a changed packed hash: %d head-root problems of %d problems, want one per head (%d): %v", len(got), r.ProblemCount, len(heads), r.Problems)
	}
}

// checkCompactedCost checks the statistics of compactedStore's store
// against its files: 232 tiles of one run each packed (49 bytes), the
// other 59990 - 232*256 erased positions at 44 bytes, the leaf log's size
// on disk.
func checkCompactedCost(t *testing.T, dir string, c *integrity.Cost) {
	t.Helper()
	var leafBytes int64
	for _, name := range []string{"0000000000000000.leaves", "0000000000010000.leaves"} {
		st, err := os.Stat(filepath.Join(dir, IntegrityDir, "leaves", name))
		if err != nil {
			t.Fatal(err)
		}
		leafBytes += st.Size()
	}
	if c == nil || c.Compacted != 232*256 || c.Erased != 59990 || c.LeafBytes != leafBytes {
		t.Fatalf("cost %+v: want 232*256 compacted of 59990 erased, %d leaf log bytes on disk", c, leafBytes)
	}
	erasedBytes := float64((59990-232*256)*44 + 232*49)
	if want := (erasedBytes + float64(c.ErasureBytes)) / 59990; c.BytesPerErasedEvent != want {
		t.Fatalf("bytes per erased event %v, want %v", c.BytesPerErasedEvent, want)
	}
	if want := (float64(leafBytes) - erasedBytes) / (66001 - 59990); c.BytesPerLiveEvent != want {
		t.Fatalf("bytes per live event %v, want %v", c.BytesPerLiveEvent, want)
	}
}
