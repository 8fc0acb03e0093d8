package integrity

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/transparency-dev/merkle/proof"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// smallFiles shrinks the leaf files to 4 tiles, so that a few thousand
// leaves make several full files.
func smallFiles(t testing.TB) {
	t.Helper()
	leavesPerFile = 4 * tileLeaves
	t.Cleanup(func() { leavesPerFile = LeavesPerFile })
}

// compactCase is a log built for a compaction test, with its model: every
// leaf hash and sequence number in leaf order (the full, uncompacted
// tree), the heads' sizes and what was erased on purpose.
type compactCase struct {
	dir      string
	leaves   []Hash
	seqs     []uint64
	heads    []uint64
	purposed *roaring64.Bitmap
}

// buildLog commits batches (sizes from batch), signs a head after the
// batches sign picks, then records erasures: the tiles eraseTile picks
// wholly by a delete or retention, or as a repair's loss when loss picks
// it, and single positions erasedOne picks.
func buildLog(t fataler, fsys vfs.FS, dir string, batches []int, sign []bool, gap []int, eraseTile func(tile int) (bool, bool), eraseOne func(i int) bool) compactCase {
	l, err := Open(dir, Options{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	c := compactCase{dir: dir, purposed: roaring64.New()}
	seq := uint64(1)
	for b, n := range batches {
		ds := make([]Hash, n)
		for i := range ds {
			ds[i] = Digest(fmt.Appendf(nil, "event %d", seq+uint64(i)))
			c.seqs = append(c.seqs, seq+uint64(i))
		}
		l.Commit(seq, ds)
		l.Durable(seq + uint64(n) - 1)
		seq += uint64(n + gap[b])
		if sign[b] {
			h, err := l.Sign()
			if err != nil {
				t.Fatal(err)
			}
			c.heads = append(c.heads, h.Size)
		}
	}
	if err := l.CatchUp(); err != nil {
		t.Fatal(err)
	}
	if err := l.ForEachLeaf(func(_, _ uint64, h Hash, _ [SaltSize]byte) { c.leaves = append(c.leaves, h) }); err != nil {
		t.Fatal(err)
	}
	del, ret, lost := roaring64.New(), roaring64.New(), roaring64.New()
	for tile := 0; tile*tileLeaves < len(c.seqs); tile++ {
		whole, asLoss := eraseTile(tile)
		for i := tile * tileLeaves; i < min(len(c.seqs), (tile+1)*tileLeaves); i++ {
			switch {
			case whole && asLoss:
				lost.Add(c.seqs[i])
			case whole && tile%2 == 0:
				del.Add(c.seqs[i])
			case whole || eraseOne(i):
				ret.Add(c.seqs[i])
			}
		}
	}
	for i, e := range []Erasure{{Eraser: seq, Kind: ErasedByDelete, Seqs: del}, {Eraser: seq + 1, Kind: ErasedByRetention, Seqs: ret}, {Kind: LostToRepair, Seqs: lost}} {
		if e.Seqs.IsEmpty() {
			continue
		}
		if err := l.RecordErasure(e); err != nil {
			t.Fatalf("erasure %d: %v", i, err)
		}
	}
	c.purposed.Or(del)
	c.purposed.Or(ret)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantPacked returns the tiles the rules allow to pack, from the model
// alone: in a full file that is not the last, every position erased on
// purpose, no head inside, some head covering.
func (c compactCase) wantPacked() map[uint64]bool {
	out := map[uint64]bool{}
	files := (uint64(len(c.leaves)) + leavesPerFile - 1) / leavesPerFile
	for tile := uint64(0); (tile+1)*tileLeaves <= (files-1)*leavesPerFile; tile++ {
		a, b := tile*tileLeaves, (tile+1)*tileLeaves
		ok, covered := true, false
		for _, s := range c.heads {
			ok = ok && (s <= a || s >= b)
			covered = covered || s >= b
		}
		for i := a; i < b && ok; i++ {
			ok = c.purposed.Contains(c.seqs[i])
		}
		if ok && covered {
			out[tile] = true
		}
	}
	return out
}

// check compares l with the model: leaf sequence numbers (packed exactly
// where expected), roots of every head, consistency between every two
// heads and the current size, inclusion proofs of sampled live leaves.
func (c compactCase) check(t fataler, l *Log, packed map[uint64]bool, pick picker) {
	if got := l.Size(); got != uint64(len(c.leaves)) {
		t.Fatalf("size %d, model %d", got, len(c.leaves))
	}
	err := l.ForEachLeaf(func(idx, seq uint64, h Hash, _ [SaltSize]byte) {
		want := c.leaves[idx]
		if packed[idx/tileLeaves] {
			want = PackedLeaf
		}
		if seq != c.seqs[idx] || h != want {
			t.Fatalf("leaf %d: seq %d hash %x, model seq %d hash %x", idx, seq, h, c.seqs[idx], want)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Cost().Compacted; got != uint64(len(packed))*tileLeaves {
		t.Fatalf("cost reports %d compacted positions, model %d", got, len(packed)*tileLeaves)
	}
	sizes := append(append([]uint64(nil), c.heads...), uint64(len(c.leaves)))
	model := map[uint64]Hash{}
	for _, s := range sizes {
		model[s] = mth(c.leaves[:s])
	}
	for i, s1 := range sizes {
		root, err := l.Root(s1)
		if err != nil || root != model[s1] {
			t.Fatalf("root of size %d: %x, %v; model %x", s1, root, err, model[s1])
		}
		for _, s2 := range sizes[i:] {
			if s1 == 0 {
				continue
			}
			p, err := l.Consistency(s1, s2)
			if err != nil {
				t.Fatalf("consistency %d to %d: %v", s1, s2, err)
			}
			r1, r2 := model[s1], model[s2]
			if err := proof.VerifyConsistency(hasher, s1, s2, toBytes(p), r1[:], r2[:]); err != nil {
				t.Fatalf("consistency %d to %d does not verify against the model: %v", s1, s2, err)
			}
		}
	}
	for range 8 {
		idx := uint64(pick("leaf", len(c.leaves)))
		size := sizes[pick("size", len(sizes))]
		if idx >= size {
			continue
		}
		p, err := l.Inclusion(c.seqs[idx], size)
		if packed[idx/tileLeaves] {
			if !errors.Is(err, ErrCompacted) {
				t.Fatalf("inclusion of packed leaf %d: %v, want ErrCompacted", idx, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("inclusion of leaf %d in %d: %v", idx, size, err)
		}
		root := model[size]
		if p.LeafIndex != idx || proof.VerifyInclusion(hasher, idx, size, c.leaves[idx][:], toBytes(p.Hashes), root[:]) != nil {
			t.Fatalf("inclusion of leaf %d in %d does not verify against the model", idx, size)
		}
		if got, ok, err := l.LeafIndex(c.seqs[idx]); got != idx || !ok || err != nil {
			t.Fatalf("leaf index of seq %d: %d %v %v, model %d", c.seqs[idx], got, ok, err, idx)
		}
	}
}

func toBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// drawCase builds a random log: 2 to 4 full files and part of another,
// batches of random sizes (some a tile), heads after random batches, whole
// tiles erased in runs (some as losses), scattered single erasures.
func drawCase(t *rapid.T, dir string) compactCase {
	total := rapid.IntRange(2, 4).Draw(t, "files")*int(leavesPerFile) + rapid.IntRange(1, int(leavesPerFile)-1).Draw(t, "tail")
	var batches, gaps []int
	var sign []bool
	for n := 0; n < total; {
		b := rapid.SampledFrom([]int{tileLeaves, 1, 37, 300, 900}).Draw(t, "batch")
		b = min(b, total-n)
		batches = append(batches, b)
		gaps = append(gaps, rapid.SampledFrom([]int{0, 0, 1, 5}).Draw(t, "gap"))
		sign = append(sign, rapid.Float64Range(0, 1).Draw(t, "sign") < 0.3)
		n += b
	}
	sign[len(sign)-1] = true
	erased := rapid.SliceOfN(rapid.IntRange(0, 2), 1+total/tileLeaves, 1+total/tileLeaves).Draw(t, "tiles")
	ones := rapid.SliceOfN(rapid.IntRange(0, total-1), 0, 20).Draw(t, "ones")
	single := map[int]bool{}
	for _, i := range ones {
		single[i] = true
	}
	return buildLog(t, vfs.OS{}, dir, batches, sign, gaps,
		func(tile int) (bool, bool) { return erased[tile] > 0, erased[tile] == 2 && tile%3 == 0 },
		func(i int) bool { return single[i] })
}

// TestCompactErasedModel: after compaction, and after reopening the
// packed files, every root, consistency proof and live inclusion proof
// equals the full uncompacted tree's, exactly the tiles the rules allow
// are packed, and a second compaction packs nothing more.
func TestCompactErasedModel(t *testing.T) {
	smallFiles(t)
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp("", "compact-model")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		c := drawCase(t, dir)
		want := c.wantPacked()
		l, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := l.CompactErased()
		if err != nil {
			t.Fatal(err)
		}
		if st.Tiles != len(want) {
			t.Fatalf("packed %d tiles, model %d (%v)", st.Tiles, len(want), want)
		}
		c.check(t, l, want, drawn(t))
		if st2, err := l.CompactErased(); err != nil || st2.Tiles != 0 || st2.After != st.After {
			t.Fatalf("second compaction: %+v %v", st2, err)
		}
		l.Close()
		l, err = Open(dir, Options{})
		if err != nil {
			t.Fatalf("reopen after compaction: %v", err)
		}
		defer l.Close()
		c.check(t, l, want, drawn(t))
	})
}

// TestCompactErasedCrash cuts the power before every file operation of a
// compaction (a Strict FS keeps only what was fsynced) and checks each
// leftover state: it opens, holds the model's tree and leaves, and a
// compaction run then finishes the job. A failed rename leaves the log
// working and unchanged.
func TestCompactErasedCrash(t *testing.T) {
	smallFiles(t)
	root := t.TempDir()
	dir := filepath.Join(root, "log")
	strict, err := vfs.NewStrict(vfs.OS{}, root)
	if err != nil {
		t.Fatal(err)
	}
	all := func(int) (bool, bool) { return true, false }
	batches := []int{600, 600, 600, 600, 100}
	c := buildLog(t, strict, dir, batches, []bool{true, false, false, true, true}, make([]int, len(batches)), all, func(int) bool { return false })
	want := c.wantPacked()
	if len(want) == 0 {
		t.Fatal("the case packs nothing")
	}
	var cuts []string
	strict.OnOp(func(op vfs.Op, path string, n int) {
		cut := filepath.Join(t.TempDir(), "cut")
		if err := strict.CrashCloneLocked(cut, rand.New(rand.NewPCG(uint64(n), 1))); err != nil {
			t.Error(err)
		}
		cuts = append(cuts, fmt.Sprintf("%s %s|%s", op, filepath.Base(path), cut))
	})
	l, err := Open(dir, Options{FS: strict})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CompactErased(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, cut := range cuts {
		what, cdir := splitCut(cut)
		checkCut(t, c, filepath.Join(cdir, "log"), what)
	}

	// A failed rename changes nothing and leaves no temporary file behind.
	faulty := vfs.NewFaulty(vfs.OS{})
	d2 := filepath.Join(t.TempDir(), "log")
	c2 := buildLog(t, vfs.OS{}, d2, batches, []bool{true, false, false, true, true}, make([]int, len(batches)), all, func(int) bool { return false })
	l, err = Open(d2, Options{FS: faulty})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	faulty.Fail(vfs.OpRename, errors.New("injected rename failure"))
	if _, err := l.CompactErased(); err == nil {
		t.Fatal("compaction with a failing rename reported no error")
	}
	faulty.Heal(vfs.OpRename)
	tmps, _ := filepath.Glob(filepath.Join(d2, "leaves", "*.tmp"))
	if len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
	c2.check(t, l, nil, seeded(1))
	if st, err := l.CompactErased(); err != nil || st.Tiles != len(want) {
		t.Fatalf("compaction after the failure: %+v %v", st, err)
	}
}

// splitCut splits "op file|dir".
func splitCut(s string) (string, string) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '|' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// checkCut opens the state a power cut left and checks it against the
// model, packed or not, then compacts it and checks again.
func checkCut(t *testing.T, c compactCase, dir, what string) {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("power cut before %s: open: %v", what, err)
	}
	defer l.Close()
	packed := map[uint64]bool{}
	for tile := range c.wantPacked() {
		if f := l.leaves.files[tile*tileLeaves/leavesPerFile]; f.tiles != nil && f.tiles[tile%(leavesPerFile/tileLeaves)].packed != nil {
			packed[tile] = true
		}
	}
	c.check(t, l, packed, seeded(2))
	if tmps, _ := filepath.Glob(filepath.Join(dir, "leaves", "*.tmp")); len(tmps) != 0 {
		t.Fatalf("power cut before %s: temporary files left after open: %v", what, tmps)
	}
	if _, err := l.CompactErased(); err != nil {
		t.Fatalf("power cut before %s: compact: %v", what, err)
	}
	c.check(t, l, c.wantPacked(), seeded(3))
}

// fataler is what the tests' helpers need of a *testing.T, a *testing.F
// or a *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// picker picks a number in [0, n), labelled for rapid.
type picker func(label string, n int) int

func seeded(seed uint64) picker {
	r := rand.New(rand.NewPCG(seed, 7))
	return func(_ string, n int) int { return r.IntN(n) }
}

func drawn(t *rapid.T) picker {
	return func(label string, n int) int { return rapid.IntRange(0, n-1).Draw(t, label) }
}

// TestCompactErasedOnItsOwn: with a signing interval, an erasure recorded
// while the log runs is packed by the background goroutine once a head
// covers it, and the tree still equals the model.
func TestCompactErasedOnItsOwn(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l, err := Open(dir, Options{SignInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Start()
	n := 2*int(leavesPerFile) + 100
	c := compactCase{dir: dir, purposed: roaring64.New()}
	ds := make([]Hash, n)
	for i := range ds {
		ds[i] = Digest(fmt.Appendf(nil, "event %d", i+1))
		c.seqs = append(c.seqs, uint64(i+1))
	}
	l.Commit(1, ds)
	l.Durable(uint64(n))
	waitFor(t, "the leaves", func() bool { return l.Size() == uint64(n) })
	if err := l.ForEachLeaf(func(_, _ uint64, h Hash, _ [SaltSize]byte) { c.leaves = append(c.leaves, h) }); err != nil {
		t.Fatal(err)
	}
	erased := roaring64.New()
	erased.AddRange(1, 6*tileLeaves+1) // tiles 0..5: files 0 and 1
	if err := l.RecordErasure(Erasure{Eraser: uint64(n + 1), Kind: ErasedByDelete, Seqs: erased}); err != nil {
		t.Fatal(err)
	}
	c.purposed.Or(erased)
	waitFor(t, "the packing", func() bool { return l.Cost().Compacted == 6*tileLeaves })
	for _, h := range l.Heads(0, 0) {
		c.heads = append(c.heads, h.Size)
	}
	want := c.wantPacked()
	if len(want) != 6 {
		t.Fatalf("the model packs %v", want)
	}
	c.check(t, l, want, seeded(4))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCompactErasedAfterReopen: erasures recorded before an open are
// packed by the signing goroutine of the next one, as the model says.
func TestCompactErasedAfterReopen(t *testing.T) {
	smallFiles(t)
	dir := filepath.Join(t.TempDir(), "log")
	all := func(int) (bool, bool) { return true, false }
	batches := []int{600, 600, 600, 600, 100}
	c := buildLog(t, vfs.OS{}, dir, batches, []bool{true, false, false, true, true}, make([]int, len(batches)), all, func(int) bool { return false })
	want := c.wantPacked()
	l, err := Open(dir, Options{SignInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Start()
	waitFor(t, "the packing", func() bool { return l.Cost().Compacted == uint64(len(want))*tileLeaves })
	c.check(t, l, want, seeded(5))
}

// TestPausePackingHoldsCompaction: while packing is paused (a backup
// copies the leaf files), CompactErased rewrites nothing and waits; once
// resumed it packs what it would have.
func TestPausePackingHoldsCompaction(t *testing.T) {
	smallFiles(t)
	dir := filepath.Join(t.TempDir(), "log")
	all := func(int) (bool, bool) { return true, false }
	batches := []int{600, 600, 600, 600, 100}
	c := buildLog(t, vfs.OS{}, dir, batches, []bool{true, false, false, true, true}, make([]int, len(batches)), all, func(int) bool { return false })
	want := c.wantPacked()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	before := l.leaves.bytes()
	resume := l.PausePacking()
	done := make(chan CompactStats, 1)
	go func() {
		st, err := l.CompactErased()
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	select {
	case st := <-done:
		t.Fatalf("compaction ran while paused: %+v", st)
	case <-time.After(200 * time.Millisecond):
	}
	if got := l.leaves.bytes(); got != before {
		t.Fatalf("leaf log %d bytes while paused, %d before", got, before)
	}
	resume()
	if st := <-done; st.Tiles != len(want) {
		t.Fatalf("after resume packed %d tiles, want %d", st.Tiles, len(want))
	}
}
