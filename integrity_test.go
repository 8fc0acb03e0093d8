package eventlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/integrity"
)

func integrityOpts() Options {
	return Options{Integrity: true, AllowUnregistered: true, MaintenanceInterval: -1}
}

// appendN appends n events in batches of batch, message "m<i>".
func appendN(t *testing.T, db *DB, from, n, batch int) {
	t.Helper()
	for i := from; i < from+n; i += batch {
		var evs []Event
		for j := i; j < min(i+batch, from+n); j++ {
			e := ev("p", "a", fmt.Sprintf("2026-01-%02dT10:00:00Z", 1+j%5))
			e.Message = fmt.Sprintf("m%d", j)
			evs = append(evs, e)
		}
		if _, err := db.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
}

func mustVerifyChain(t *testing.T, dir string) ChainReport {
	t.Helper()
	r, err := VerifyChain(dir, Options{AllowUnregistered: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// buildSignedStore makes a store of 700 events in segments and the WAL,
// compacted, with heads signed along the way, and closes it.
func buildSignedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db := mustOpen(t, dir, integrityOpts())
	appendN(t, db, 0, 300, 7)
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 300, 300, 50)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 600, 100, 1) // stays in the WAL
	h, err := db.SignHead()
	if err != nil {
		t.Fatal(err)
	}
	if h.Size != 700 {
		t.Fatalf("head size %d, want 700", h.Size)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIntegrityChainClean(t *testing.T) {
	dir := buildSignedStore(t)
	r := mustVerifyChain(t, dir)
	if len(r.Problems) != 0 || r.Leaves != 700 || r.Heads != 3 {
		t.Fatalf("clean store: %+v", r)
	}
	// Reopened, it keeps the same tree and grows it.
	db := mustOpen(t, dir, integrityOpts())
	appendN(t, db, 700, 10, 3)
	h, err := db.SignHead()
	if err != nil || h.Size != 710 {
		t.Fatalf("head after reopen: %d %v", h.Size, err)
	}
	db.Close()
	if r := mustVerifyChain(t, dir); len(r.Problems) != 0 || r.Heads != 4 {
		t.Fatalf("after reopen: %+v", r)
	}
}

// TestIntegrityProofs: the inclusion proof of every event verifies against
// the signed head, from the event as read back.
func TestIntegrityProofs(t *testing.T) {
	dir := buildSignedStore(t)
	db := mustOpen(t, dir, integrityOpts())
	l, _ := db.Integrity()
	h, _ := l.LatestHead()
	if err := h.Verify(l.PublicKey()); err != nil {
		t.Fatal(err)
	}
	recs := findAll(t, db, FindRequest{})
	if len(recs) != 700 {
		t.Fatalf("%d events", len(recs))
	}
	for _, rec := range recs {
		p, err := l.Inclusion(rec.Seq, h.Size)
		if err != nil {
			t.Fatal(err)
		}
		d, err := EventDigest(&rec.Event)
		if err != nil {
			t.Fatal(err)
		}
		if err := integrity.VerifyInclusion(p, d, h.Head); err != nil {
			t.Fatalf("event %d: %v", rec.Seq, err)
		}
	}
}

func problemsOf(r ChainReport, kind string) []ChainProblem {
	var out []ChainProblem
	for _, p := range r.Problems {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// TestIntegrityErasure: a delete by query erases content but keeps the
// leaves; verify reports each erased position with the delete's record,
// and the heads signed before it still verify.
func TestIntegrityErasure(t *testing.T) {
	dir := buildSignedStore(t)
	db := mustOpen(t, dir, integrityOpts())
	res, err := db.Delete(ctx, DeleteRequest{Filter: `message:(m5 or m250 or m650)`})
	if err != nil || res.Deleted != 3 {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if _, err := db.Compact(ctx); err != nil { // purged from disk
		t.Fatal(err)
	}
	db.Close()
	r := mustVerifyChain(t, dir)
	if len(r.Problems) != 0 {
		t.Fatalf("problems after a recorded delete: %v", r.Problems)
	}
	want := []uint64{5, 250, 650} // leaf i holds seq i+1
	if len(r.Erased) != 3 {
		t.Fatalf("erased: %v", r.Erased)
	}
	for i, e := range r.Erased {
		if e.Leaf != want[i] || e.Seq != want[i]+1 || e.By != "delete" || e.Eraser != res.Seq {
			t.Errorf("erased %d: %+v, want leaf %d by the delete recorded as %d", i, e, want[i], res.Seq)
		}
	}
}

// TestIntegrityRetentionErasure: retention drops every segment (all
// events are months old); every position reads as erased by a recorded
// drop, and the heads still verify.
func TestIntegrityRetentionErasure(t *testing.T) {
	dir := buildSignedStore(t)
	opts := integrityOpts()
	opts.RetentionMaxAge = 30 * 24 * time.Hour
	opts.Now = func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
	db := mustOpen(t, dir, opts)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil || len(res.Dropped) == 0 {
		t.Fatalf("retention: %+v %v", res, err)
	}
	db.Close()
	r := mustVerifyChain(t, dir)
	if len(r.Problems) != 0 {
		t.Fatalf("problems after retention: %v", r.Problems)
	}
	if len(r.Erased) != 700 {
		t.Fatalf("%d erased, want 700", len(r.Erased))
	}
	for _, e := range r.Erased {
		if e.By != "retention" || e.Eraser <= 700 {
			t.Fatalf("erased %+v, want by a retention record after the events", e)
		}
	}
}

// TestIntegrityTamper tampers with a closed store's data directory and
// checks that VerifyChain reports each change at its position.
func TestIntegrityTamper(t *testing.T) {
	t.Run("remove an event", func(t *testing.T) {
		dir := buildSignedStore(t)
		// Someone with the disk deletes and purges with an engine that
		// does not see the tree (moved aside), so no erasure is recorded.
		tree, aside := filepath.Join(dir, IntegrityDir), filepath.Join(t.TempDir(), "aside")
		if err := os.Rename(tree, aside); err != nil {
			t.Fatal(err)
		}
		db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
		if _, err := db.Delete(ctx, DeleteRequest{Filter: `message:"m123"`}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if err := os.Rename(aside, tree); err != nil {
			t.Fatal(err)
		}
		got := problemsOf(mustVerifyChain(t, dir), "missing")
		if len(got) != 1 || got[0].Leaf != 123 {
			t.Fatalf("missing: %v", got)
		}
	})
	t.Run("alter a leaf", func(t *testing.T) {
		dir := buildSignedStore(t)
		rewriteLeaf(t, dir, 42, func(e []byte) { e[8] ^= 1 })
		r := mustVerifyChain(t, dir)
		alt := problemsOf(r, "altered")
		if len(alt) != 1 || alt[0].Leaf != 42 {
			t.Fatalf("altered: %v", r.Problems)
		}
		if roots := problemsOf(r, "head-root"); len(roots) != 3 || roots[0].Head != 0 {
			t.Fatalf("head-root: %v", roots)
		}
	})
	t.Run("swap two leaves", func(t *testing.T) {
		dir := buildSignedStore(t)
		var a, b []byte
		rewriteLeaf(t, dir, 10, func(e []byte) { a = append(a, e...) })
		rewriteLeaf(t, dir, 500, func(e []byte) { b = append(b, e...) })
		// Move the hashes, keep the seqs: the order of two events changed.
		rewriteLeaf(t, dir, 10, func(e []byte) { copy(e[8:40], b[8:40]) })
		rewriteLeaf(t, dir, 500, func(e []byte) { copy(e[8:40], a[8:40]) })
		alt := problemsOf(mustVerifyChain(t, dir), "altered")
		if len(alt) != 2 || alt[0].Leaf != 10 || alt[1].Leaf != 500 {
			t.Fatalf("altered: %v", alt)
		}
	})
	t.Run("insert an event", func(t *testing.T) {
		dir := buildSignedStore(t)
		// Sealed by an engine that does not see the tree (moved away),
		// then the tree goes on: the event sits between leaves.
		tree, aside := filepath.Join(dir, IntegrityDir), filepath.Join(t.TempDir(), "aside")
		if err := os.Rename(tree, aside); err != nil {
			t.Fatal(err)
		}
		db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
		appendN(t, db, 9000, 1, 1)
		db.Close()
		if err := os.Rename(aside, tree); err != nil {
			t.Fatal(err)
		}
		r := mustVerifyChain(t, dir)
		if got := problemsOf(r, "inserted"); len(got) != 1 || got[0].Seq != 701 {
			t.Fatalf("inserted after the last leaf: %v", r.Problems)
		}
		db = mustOpen(t, dir, integrityOpts())
		appendN(t, db, 9001, 3, 1)
		db.Close()
		r = mustVerifyChain(t, dir)
		if got := problemsOf(r, "inserted"); len(got) != 1 || got[0].Seq != 701 || len(r.Problems) != 1 {
			t.Fatalf("inserted between leaves: %v", r.Problems)
		}
	})
	t.Run("roll the segments back to an older copy", func(t *testing.T) {
		dir := t.TempDir()
		db := mustOpen(t, dir, integrityOpts())
		appendN(t, db, 0, 100, 10)
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		old := filepath.Join(t.TempDir(), "old")
		if err := os.CopyFS(old, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		db = mustOpen(t, dir, integrityOpts())
		appendN(t, db, 100, 50, 10)
		if _, err := db.SignHead(); err != nil {
			t.Fatal(err)
		}
		db.Close()
		for _, name := range []string{"segments", manifestFile, "wal"} {
			os.RemoveAll(filepath.Join(dir, name))
			if err := os.Rename(filepath.Join(old, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		r := mustVerifyChain(t, dir)
		missing := problemsOf(r, "missing")
		if len(missing) != 50 || missing[0].Leaf != 100 || missing[49].Leaf != 149 || len(r.Problems) != 50 {
			t.Fatalf("rolled back: %d missing, %v", len(missing), r.Problems)
		}
	})
	t.Run("truncate the leaf log", func(t *testing.T) {
		dir := buildSignedStore(t)
		path := filepath.Join(dir, IntegrityDir, "leaves", "0000000000000000.leaves")
		if err := os.Truncate(path, 16+int64(650*integrity.EntrySize)); err != nil {
			t.Fatal(err)
		}
		r := mustVerifyChain(t, dir)
		if s := problemsOf(r, "head-size"); len(s) != 1 || s[0].Head != 2 {
			t.Fatalf("head-size: %v", r.Problems)
		}
	})
	t.Run("replace the heads file", func(t *testing.T) {
		dir := buildSignedStore(t)
		other := buildSignedStore(t)
		data, err := os.ReadFile(filepath.Join(other, IntegrityDir, integrity.HeadsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, IntegrityDir, integrity.HeadsFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := mustVerifyChain(t, dir)
		if s := problemsOf(r, "head-signature"); len(s) != 3 {
			t.Fatalf("head-signature: %v", r.Problems)
		}
		if s := problemsOf(r, "head-root"); len(s) != 3 {
			t.Fatalf("head-root (other salt key, other leaves): %v", r.Problems)
		}
	})
}

// rewriteLeaf lets fn change leaf idx's entry and fixes its CRC, as an
// attacker who knows the format would.
func rewriteLeaf(t *testing.T, dir string, idx int, fn func(entry []byte)) {
	t.Helper()
	path := filepath.Join(dir, IntegrityDir, "leaves", "0000000000000000.leaves")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := b[16+idx*integrity.EntrySize:][:integrity.EntrySize]
	fn(e)
	binary.LittleEndian.PutUint32(e[40:], crc32.Checksum(e[:40], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = strings.TrimSpace
}
