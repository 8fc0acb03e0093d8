package eventlog

import (
	"os"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
)

// checkIntegrityCut checks the Merkle tree a power cut left, on a copy:
// reopened (which rebuilds lost leaves from the WAL), every acknowledged
// event has exactly one leaf, every stored event has one, and every head
// signed before the cut still matches the tree. Deleted and expired
// events read as missing, which is all VerifyChain may report.
func checkIntegrityCut(t *testing.T, c powerCut) {
	t.Helper()
	dir := c.dir + "-integrity"
	os.RemoveAll(dir) // a kill test checks one directory after each kill
	if err := os.CopyFS(dir, os.DirFS(c.dir)); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir, Options{AllowUnregistered: true, MaintenanceInterval: -1, Integrity: true})
	if err != nil {
		t.Fatalf("after a power cut before %s: reopen: %v", c.op, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("after a power cut before %s: close: %v", c.op, err)
	}
	r, err := VerifyChain(dir, Options{AllowUnregistered: true}, nil)
	if err != nil {
		t.Fatalf("after a power cut before %s: verify chain: %v", c.op, err)
	}
	missing := map[uint64]bool{}
	for _, p := range r.Problems {
		if p.Kind != "missing" {
			t.Fatalf("after a power cut before %s: %v", c.op, p)
		}
		missing[p.Seq] = true
	}
	if r.Unleaved != 0 {
		t.Fatalf("after a power cut before %s: %d stored events without leaves after reopening", c.op, r.Unleaved)
	}
	leaves := map[uint64]bool{}
	l, err := integrity.Open(dir+"/"+IntegrityDir, integrity.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.ForEachLeaf(func(_, seq uint64, _ integrity.Hash, _ [integrity.SaltSize]byte) { leaves[seq] = true }); err != nil {
		t.Fatal(err)
	}
	for seq, msg := range c.want {
		if !leaves[seq] || missing[seq] {
			t.Fatalf("after a power cut before %s: acknowledged event %q (seq %d): leaf %v, missing %v", c.op, msg, seq, leaves[seq], missing[seq])
		}
	}
}
