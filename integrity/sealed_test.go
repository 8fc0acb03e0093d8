package integrity

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/transparency-dev/merkle/proof"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// memSource is a LeafSource over a map of stored events: what the engine's
// segments hold. Only events up to sealed are given, as only sealed
// events are in segments.
type memSource struct {
	mu     sync.Mutex
	events map[uint64]Hash
	sealed uint64
	reads  int // events given, for the tests that count them
}

func newMemSource() *memSource { return &memSource{events: map[uint64]Hash{}} }

func (s *memSource) SealedSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealed
}

func (s *memSource) Digests() DigestReader { return s }

func (s *memSource) Read(lo, hi uint64, fn func(uint64, Hash, string)) error {
	s.mu.Lock()
	var seqs []uint64
	for seq := range s.events {
		if seq >= lo && seq <= hi && seq <= s.sealed {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	ds := make([]Hash, len(seqs))
	for i, seq := range seqs {
		ds[i] = s.events[seq]
	}
	s.reads += len(seqs)
	s.mu.Unlock()
	for i, seq := range seqs {
		fn(seq, ds[i], fmt.Sprintf("seg-%d", seq/1000))
	}
	return nil
}

func (s *memSource) Close() {}

func (s *memSource) set(seq uint64, d Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[seq] = d
}

func (s *memSource) drop(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.events, seq)
}

// sealedModel is the plain list of every leaf hash, recomputed from the
// definition (refLeafOf), beside the engine's state that the log must
// follow: which events are stored, sealed, erased on purpose or lost.
type sealedModel struct {
	key      []byte
	leaves   []Hash
	seqs     []uint64
	next     uint64
	purposed *roaring64.Bitmap
	lost     *roaring64.Bitmap
	heads    []uint64
}

func (m *sealedModel) append(l *Log, src *memSource, n, gap int) {
	ds := make([]Hash, n)
	first := m.next
	for i := range ds {
		seq := first + uint64(i)
		ds[i] = Digest(fmt.Appendf(nil, "event %d", seq))
		src.set(seq, ds[i])
		m.seqs = append(m.seqs, seq)
		m.leaves = append(m.leaves, refLeafOf(m.key, seq, ds[i]))
	}
	l.Commit(first, ds)
	l.Durable(first + uint64(n) - 1)
	m.next = first + uint64(n+gap)
}

// erased reports whether position idx's event is gone (erased or lost).
func (m *sealedModel) gone(idx uint64) bool {
	return m.purposed.Contains(m.seqs[idx]) || m.lost.Contains(m.seqs[idx])
}

// tileState returns how the log holds tile i now.
func tileState(l *Log, i uint64) (packed, sealed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lf := l.leaves.files[i*tileLeaves/leavesPerFile]
	if lf.tiles == nil {
		return false, false
	}
	p := lf.tiles[i%(leavesPerFile/tileLeaves)].packed
	return p != nil && !p.sealed, p != nil && p.sealed
}

// allowed reports whether err may answer a question that needs the hashes
// below tile i: ErrCompacted if it is packed as wholly erased,
// ErrSealedTile if it is sealed and an event of it was lost since.
func (m *sealedModel) allowed(l *Log, i uint64, err error) bool {
	packed, sealed := tileState(l, i)
	if packed {
		return errors.Is(err, ErrCompacted)
	}
	if !sealed || !errors.Is(err, ErrSealedTile) {
		return false
	}
	for idx := i * tileLeaves; idx < (i+1)*tileLeaves; idx++ {
		if m.lost.Contains(m.seqs[idx]) {
			return true
		}
	}
	return false
}

// check compares the log with the model: every leaf's sequence number and
// hash (or its tile's, where sealed or packed), which tiles are sealed,
// roots, inclusion and consistency proofs at drawn sizes, all against the
// model's plain list of leaves.
func (m *sealedModel) check(t *rapid.T, l *Log, src *memSource, justPacked bool) {
	if got := l.Size(); got != uint64(len(m.leaves)) {
		t.Fatalf("size %d, model %d", got, len(m.leaves))
	}
	var seqs []uint64
	var hs []Hash
	err := l.ForEachLeaf(func(_, seq uint64, h Hash, _ [SaltSize]byte) {
		seqs, hs = append(seqs, seq), append(hs, h)
	})
	if err != nil {
		t.Fatal(err)
	}
	for idx, h := range hs {
		packed, sealed := tileState(l, uint64(idx)/tileLeaves)
		want := m.leaves[idx]
		switch {
		case packed:
			want = PackedLeaf
		case sealed:
			want = SealedLeaf
		}
		if seqs[idx] != m.seqs[idx] || h != want {
			t.Fatalf("leaf %d: seq %d hash %x, model seq %d hash %x", idx, seqs[idx], h, m.seqs[idx], want)
		}
	}
	m.checkTiles(t, l, src, justPacked)
	size := uint64(len(m.leaves))
	sizes := append(slices.Clone(m.heads), size, uint64(rapid.IntRange(1, int(size)).Draw(t, "size")))
	for _, s := range sizes {
		root, err := l.Root(s)
		if s%tileLeaves != 0 && err != nil && m.allowed(l, s/tileLeaves, err) {
			continue
		}
		if err != nil || root != mth(m.leaves[:s]) {
			t.Fatalf("root of size %d: %x, %v; model %x", s, root, err, mth(m.leaves[:s]))
		}
	}
	for range 4 {
		idx := uint64(rapid.IntRange(0, int(size)-1).Draw(t, "leaf"))
		s := uint64(rapid.IntRange(int(idx)+1, int(size)).Draw(t, "proof size"))
		p, err := l.Inclusion(m.seqs[idx], s)
		if err != nil && (m.allowed(l, idx/tileLeaves, err) || (s%tileLeaves != 0 && m.allowed(l, s/tileLeaves, err))) {
			continue
		}
		root := mth(m.leaves[:s])
		if err != nil || p.LeafIndex != idx || proof.VerifyInclusion(hasher, idx, s, m.leaves[idx][:], toBytes(p.Hashes), root[:]) != nil {
			t.Fatalf("inclusion of leaf %d in %d: %v, or it does not verify against the model", idx, s, err)
		}
		s1 := uint64(rapid.IntRange(1, int(s)).Draw(t, "from size"))
		hs, err := l.Consistency(s1, s)
		if err != nil && ((s1%tileLeaves != 0 && m.allowed(l, s1/tileLeaves, err)) || (s%tileLeaves != 0 && m.allowed(l, s/tileLeaves, err))) {
			continue
		}
		r1 := mth(m.leaves[:s1])
		if err != nil || proof.VerifyConsistency(hasher, s1, s, toBytes(hs), r1[:], root[:]) != nil {
			t.Fatalf("consistency %d to %d: %v, or it does not verify against the model", s1, s, err)
		}
	}
}

// checkTiles checks which tiles are sealed: never one holding a position
// erased on purpose (its leaves were written back first) unless a loss
// had already taken a leaf of it, its subtree
// hash the model's; and, right after PackSealed, every tile that can be
// (in a full file but the last whose events are all sealed, every event
// of the tile stored, none erased or lost) is.
func (m *sealedModel) checkTiles(t *rapid.T, l *Log, src *memSource, justPacked bool) {
	files := (uint64(len(m.leaves)) + leavesPerFile - 1) / leavesPerFile
	for i := uint64(0); (i+1)*tileLeaves <= uint64(len(m.leaves)); i++ {
		_, sealed := tileState(l, i)
		// A file is sealed once all its events are (its last one is).
		fileEnd := (i*tileLeaves/leavesPerFile + 1) * leavesPerFile
		can := fileEnd <= (files-1)*leavesPerFile && m.seqs[fileEnd-1] <= src.SealedSeq()
		erased, lost := -1, false
		for idx := i * tileLeaves; idx < (i+1)*tileLeaves; idx++ {
			if m.purposed.Contains(m.seqs[idx]) {
				erased = int(idx)
			}
			lost = lost || m.lost.Contains(m.seqs[idx])
			can = can && !m.gone(idx) && m.seqs[idx] <= src.SealedSeq()
		}
		// Only a loss, which nothing can undo, leaves an erased position
		// in a sealed tile: its neighbours' hashes went with the lost one.
		if sealed && erased >= 0 && !lost {
			t.Fatalf("tile %d is sealed, but its leaf %d was erased on purpose: its hash is lost", i, erased)
		}
		if sealed && l.TileHash(i) != mth(m.leaves[i*tileLeaves:(i+1)*tileLeaves]) {
			t.Fatalf("sealed tile %d keeps %x, the model's subtree hash is %x", i, l.TileHash(i), mth(m.leaves[i*tileLeaves:(i+1)*tileLeaves]))
		}
		if justPacked && can && !sealed {
			t.Fatalf("tile %d could be sealed and is not", i)
		}
	}
}

// erase erases seqs as a delete or retention does: Unpack while the
// events are stored, then the events go, then the record.
func (m *sealedModel) erase(t *rapid.T, l *Log, src *memSource, seqs *roaring64.Bitmap, kind ErasureKind) {
	if err := l.Unpack(seqs); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	for _, s := range seqs.ToArray() {
		src.drop(s)
	}
	if err := l.RecordErasure(Erasure{Eraser: m.next, Kind: kind, Seqs: seqs}); err != nil {
		t.Fatal(err)
	}
	m.purposed.Or(seqs)
}

// live returns up to n stored positions' sequence numbers from drawn
// places.
func (m *sealedModel) live(t *rapid.T, n int) *roaring64.Bitmap {
	bm := roaring64.New()
	for range n {
		idx := rapid.IntRange(0, len(m.seqs)-1).Draw(t, "erase leaf")
		if !m.gone(uint64(idx)) {
			bm.Add(m.seqs[idx])
		}
	}
	return bm
}

// TestSealedModel runs random appends, seals, packing of sealed tiles,
// deletes and retention drops (through Unpack), losses (events gone
// without Unpack, as a repair's), compaction of erased tiles, heads and
// reopens, and after each step compares the log with a plain list of leaf
// hashes: roots, inclusion and consistency proofs identical at every size
// (or refused only inside a tile whose hashes are gone with a lost event,
// or packed as wholly erased).
func TestSealedModel(t *testing.T) {
	smallFiles(t)
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp("", "sealed-model")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		src := newMemSource()
		open := func() *Log {
			l, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			l.SetSource(src)
			return l
		}
		l := open()
		defer func() { l.Close() }()
		key, err := parseSaltKey(mustRead(t, filepath.Join(dir, SaltKeyFile)))
		if err != nil {
			t.Fatal(err)
		}
		m := &sealedModel{key: key, next: 1, purposed: roaring64.New(), lost: roaring64.New()}
		m.append(l, src, 300, 0)
		justPacked := false
		t.Repeat(map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				m.append(l, src, rapid.SampledFrom([]int{1, 37, 256, 300, 700}).Draw(t, "n"), rapid.SampledFrom([]int{0, 0, 1, 5}).Draw(t, "gap"))
				if err := l.CatchUp(); err != nil {
					t.Fatal(err)
				}
			},
			"seal": func(t *rapid.T) {
				src.mu.Lock()
				src.sealed = m.next - 1
				src.mu.Unlock()
			},
			"pack sealed": func(t *rapid.T) {
				if _, err := l.PackSealed(); err != nil {
					t.Fatal(err)
				}
				justPacked = true
			},
			"sign": func(t *rapid.T) {
				h, err := l.Sign()
				if err != nil {
					t.Fatal(err)
				}
				m.heads = append(m.heads, h.Size)
			},
			"delete": func(t *rapid.T) {
				m.erase(t, l, src, m.live(t, rapid.IntRange(1, 5).Draw(t, "deleted")), ErasedByDelete)
			},
			"retention": func(t *rapid.T) {
				bm := roaring64.New()
				for idx := range m.seqs[:rapid.IntRange(1, len(m.seqs)).Draw(t, "dropped up to")] {
					if !m.gone(uint64(idx)) {
						bm.Add(m.seqs[idx])
					}
				}
				m.erase(t, l, src, bm, ErasedByRetention)
			},
			"lose": func(t *rapid.T) {
				bm := m.live(t, 1)
				for _, s := range bm.ToArray() {
					src.drop(s)
				}
				if err := l.RecordErasure(Erasure{Kind: LostToRepair, Seqs: bm}); err != nil {
					t.Fatal(err)
				}
				m.lost.Or(bm)
			},
			"compact erased": func(t *rapid.T) {
				if _, err := l.CompactErased(); err != nil {
					t.Fatal(err)
				}
			},
			"reopen": func(t *rapid.T) {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = open()
			},
			"": func(t *rapid.T) {
				if err := l.CatchUp(); err != nil {
					t.Fatal(err)
				}
				m.check(t, l, src, justPacked)
				justPacked = false
			},
		})
	})
}

// sealedLog builds a log of files full files and a part of another with
// smallFiles, every event stored and sealed in src, and seals its tiles.
func sealedLog(t *testing.T, dir string, files int) (*Log, *memSource, *sealedModel) {
	t.Helper()
	l, src, m := storedLog(t, dir, files*4+1, 0)
	st, err := l.PackSealed()
	if err != nil || st.Tiles != files*4 {
		t.Fatalf("sealed %+v, %v; want %d tiles", st, err, files*4)
	}
	return l, src, m
}

// TestSealedTileBitFlips: every bit of a version 3 leaf file flipped is
// refused at open with ErrCorrupt naming the file (or, in the version
// field, as an unsupported version naming it).
func TestSealedTileBitFlips(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l, _, _ := sealedLog(t, dir, 1)
	l.Close()
	path := filepath.Join(dir, "leaves", leafFileName(0))
	orig := mustRead(t, path)
	if len(orig) != leafHeaderSize+4*(packedFixed+runSize) {
		t.Fatalf("sealed file of %d bytes", len(orig))
	}
	for bit := range len(orig) * 8 {
		b := slices.Clone(orig)
		b[bit/8] ^= 1 << (bit % 8)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{ReadOnly: true})
		if err == nil {
			l.Close()
			t.Fatalf("bit %d flipped: opened", bit)
		}
		if !strings.Contains(err.Error(), path) || (!errors.Is(err, ErrCorrupt) && !strings.Contains(err.Error(), "unsupported version")) {
			t.Fatalf("bit %d flipped: %v", bit, err)
		}
	}
}

// TestSealedTileChangedEvent: a changed or missing event under a sealed
// tile fails the proofs that need its leaves, with an error naming the
// tile's leaves and segment; proofs elsewhere are unchanged.
func TestSealedTileChangedEvent(t *testing.T) {
	smallFiles(t)
	l, src, m := sealedLog(t, t.TempDir(), 2)
	defer l.Close()
	size := uint64(len(m.leaves))
	changed := m.seqs[300] // tile 1
	src.set(changed, Digest([]byte("changed")))
	_, err := l.Inclusion(m.seqs[260], size)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "leaves 256 to 511") || !strings.Contains(err.Error(), "seg-0") {
		t.Fatalf("inclusion in the changed tile: %v", err)
	}
	if _, err := l.Root(300); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("root at a size inside the changed tile: %v", err)
	}
	p, err := l.Inclusion(m.seqs[700], size)
	root := mth(m.leaves)
	if err != nil || proof.VerifyInclusion(hasher, 700, size, m.leaves[700][:], toBytes(p.Hashes), root[:]) != nil {
		t.Fatalf("inclusion in another tile: %v", err)
	}
	src.drop(changed)
	if _, err := l.Inclusion(m.seqs[260], size); !errors.Is(err, ErrSealedTile) || !strings.Contains(err.Error(), fmt.Sprint(changed)) {
		t.Fatalf("inclusion in a tile with a missing event: %v", err)
	}
	if got, err := l.Root(size); err != nil || got != root {
		t.Fatalf("the root over the sealed tile: %x %v, model %x", got, err, root)
	}
}

// TestUnpackWritesLeavesBack: Unpack gives a sealed tile its entries back
// (the same leaf hashes the model has), and PackSealed never seals it
// again, even after a reopen while the events are still stored.
func TestUnpackWritesLeavesBack(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l, src, m := sealedLog(t, dir, 1)
	erased := roaring64.BitmapOf(m.seqs[513])
	if err := l.Unpack(erased); err != nil {
		t.Fatal(err)
	}
	if _, sealed := tileState(l, 2); sealed {
		t.Fatal("tile 2 is still sealed")
	}
	if err := l.RecordErasure(Erasure{Eraser: m.next, Kind: ErasedByDelete, Seqs: erased}); err != nil {
		t.Fatal(err)
	}
	src.drop(m.seqs[513])
	l.Close()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetSource(src)
	if st, err := l.PackSealed(); err != nil || st.Tiles != 0 {
		t.Fatalf("packing again: %+v %v", st, err)
	}
	size := uint64(len(m.leaves))
	err = l.ReadLeaves(512, 768, func(idx, seq uint64, h Hash, _ [SaltSize]byte) {
		if h != m.leaves[idx] || seq != m.seqs[idx] {
			t.Fatalf("leaf %d: %x, model %x", idx, h, m.leaves[idx])
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	root := mth(m.leaves)
	p, err := l.Inclusion(m.seqs[513], size)
	if err != nil || proof.VerifyInclusion(hasher, 513, size, m.leaves[513][:], toBytes(p.Hashes), root[:]) != nil {
		t.Fatalf("inclusion of the erased leaf: %v", err)
	}
}

// TestSealedCrash cuts the power before every file operation of a
// PackSealed and then of an Unpack (a Strict FS keeps only what was
// fsynced) and checks each state left: it opens, holds the model's tree
// (every leaf's sequence number, every root and proof), and sealing then
// finishes the job. A rewrite leaves the old file or the new one.
func TestSealedCrash(t *testing.T) {
	smallFiles(t)
	root := t.TempDir()
	dir := filepath.Join(root, "log")
	strict, err := vfs.NewStrict(vfs.OS{}, root)
	if err != nil {
		t.Fatal(err)
	}
	src := newMemSource()
	l, err := Open(dir, Options{FS: strict})
	if err != nil {
		t.Fatal(err)
	}
	l.SetSource(src)
	m := &sealedModel{key: mustSaltKey(t, dir), next: 1, purposed: roaring64.New(), lost: roaring64.New()}
	for range 9 {
		m.append(l, src, tileLeaves, 3)
	}
	if _, err := l.Sign(); err != nil {
		t.Fatal(err)
	}
	if err := l.SyncThrough(m.next); err != nil {
		t.Fatal(err)
	}
	src.sealed = m.next
	var cuts []string
	strict.OnOp(func(op vfs.Op, path string, n int) {
		cut := filepath.Join(t.TempDir(), "cut")
		if err := strict.CrashCloneLocked(cut, rand.New(rand.NewPCG(uint64(n), 1))); err != nil {
			t.Error(err)
		}
		cuts = append(cuts, fmt.Sprintf("%s %s|%s", op, filepath.Base(path), cut))
	})
	if st, err := l.PackSealed(); err != nil || st.Tiles != 8 {
		t.Fatalf("sealed %+v, %v", st, err)
	}
	erased := roaring64.BitmapOf(m.seqs[300], m.seqs[900])
	if err := l.Unpack(erased); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if len(cuts) < 6 {
		t.Fatalf("only %d file operations seen", len(cuts))
	}
	for _, cut := range cuts {
		what, cdir := splitCut(cut)
		l, err := Open(filepath.Join(cdir, "log"), Options{})
		if err != nil {
			t.Fatalf("power cut before %s: open: %v", what, err)
		}
		l.SetSource(src)
		checkSealedCut(t, l, m, what)
		if _, err := l.PackSealed(); err != nil {
			t.Fatalf("power cut before %s: seal: %v", what, err)
		}
		checkSealedCut(t, l, m, what)
		l.Close()
	}
}

// checkSealedCut compares l with the model after a power cut: sequence
// numbers, the root at every tile boundary and inside each tile, and an
// inclusion proof in each tile.
func checkSealedCut(t *testing.T, l *Log, m *sealedModel, what string) {
	t.Helper()
	n := uint64(len(m.leaves))
	if l.Size() != n {
		t.Fatalf("power cut before %s: size %d, model %d", what, l.Size(), n)
	}
	for idx := uint64(0); idx < n; idx += 97 {
		s := idx + 1
		if root, err := l.Root(s); err != nil || root != mth(m.leaves[:s]) {
			t.Fatalf("power cut before %s: root of %d: %v", what, s, err)
		}
		p, err := l.Inclusion(m.seqs[idx], n)
		root := mth(m.leaves)
		if err != nil || proof.VerifyInclusion(hasher, idx, n, m.leaves[idx][:], toBytes(p.Hashes), root[:]) != nil {
			t.Fatalf("power cut before %s: inclusion of leaf %d: %v", what, idx, err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(l.dir, "leaves", "*.tmp")); len(tmps) != 0 {
		t.Fatalf("power cut before %s: temporary files left after open: %v", what, tmps)
	}
}

// sealableLog builds a log of one full file (smallFiles) and a tile of
// the next, every event stored and sealed in src, its tiles not sealed
// yet.
func sealableLog(t *testing.T, dir string) (*Log, *memSource, *sealedModel) {
	t.Helper()
	return storedLog(t, dir, 5, 3) // gaps: every tile's sequence numbers break into runs
}

// storedLog opens a log in dir and appends tiles tiles of events, gaps
// sequence numbers skipped after each (sealedModel.append), every event
// stored and sealed in src, and catches up.
func storedLog(t *testing.T, dir string, tiles, gaps int) (*Log, *memSource, *sealedModel) {
	t.Helper()
	src := newMemSource()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.SetSource(src)
	m := &sealedModel{key: mustSaltKey(t, dir), next: 1, purposed: roaring64.New(), lost: roaring64.New()}
	for range tiles {
		m.append(l, src, tileLeaves, gaps)
	}
	if err := l.CatchUp(); err != nil {
		t.Fatal(err)
	}
	src.sealed = m.next - 1
	return l, src, m
}

// rewriteEntry puts an entry (seq, h) with a valid CRC in place of leaf
// idx of the first leaf file, as someone with the disk could.
func rewriteEntry(t *testing.T, dir string, idx, seq uint64, h Hash) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "leaves", leafFileName(0)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(appendEntry(nil, seq, h), leafHeaderSize+int64(idx)*EntrySize); err != nil {
		t.Fatal(err)
	}
}

// TestSealKeepsTheTreesHash: sealing keeps the tree's subtree hash of
// each tile and the sequence numbers of its entries; a leaf hash changed
// on disk since open (a valid CRC) is not taken into the sealed tile, so
// roots, proofs and a reopen still agree with the model.
func TestSealKeepsTheTreesHash(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l, src, m := sealableLog(t, dir)
	rewriteEntry(t, dir, tileLeaves+7, m.seqs[tileLeaves+7], Hash{1, 2, 3})
	st, err := l.PackSealed()
	if err != nil || st.Tiles != 4 {
		t.Fatalf("sealed %+v, %v; want 4 tiles", st, err)
	}
	check := func(l *Log, when string) {
		n := uint64(len(m.leaves))
		root := mth(m.leaves)
		if got, err := l.Root(n); err != nil || got != root {
			t.Fatalf("%s: root %x, %v; want %x", when, got, err, root)
		}
		for _, idx := range []uint64{0, tileLeaves + 7, 3*tileLeaves + 255, 4 * tileLeaves} {
			p, err := l.Inclusion(m.seqs[idx], n)
			if err != nil || proof.VerifyInclusion(hasher, idx, n, m.leaves[idx][:], toBytes(p.Hashes), root[:]) != nil {
				t.Fatalf("%s: inclusion of leaf %d: %v", when, idx, err)
			}
		}
		for i := range uint64(4) {
			if packed, sealed := tileState(l, i); packed || !sealed {
				t.Fatalf("%s: tile %d packed %v sealed %v", when, i, packed, sealed)
			}
		}
		var seqs []uint64
		if err := l.ReadLeaves(0, n, func(_, seq uint64, _ Hash, _ [SaltSize]byte) { seqs = append(seqs, seq) }); err != nil || !slices.Equal(seqs, m.seqs) {
			t.Fatalf("%s: sequence numbers %v, %v; want %v", when, seqs, err, m.seqs)
		}
	}
	check(l, "sealed")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetSource(src)
	check(l, "reopened")
}

// TestSealRefusesBadEntry: an entry whose CRC does not match stops the
// sealing of its file with ErrCorrupt naming the file and the leaf, and
// the file is left as it is.
func TestSealRefusesBadEntry(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l, _, _ := sealableLog(t, dir)
	defer l.Close()
	path := filepath.Join(dir, "leaves", leafFileName(0))
	before := mustRead(t, path)
	b := slices.Clone(before)
	b[leafHeaderSize+(2*tileLeaves+5)*EntrySize+9] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := l.PackSealed()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("leaf %d", 2*tileLeaves+5)) {
		t.Fatalf("PackSealed over a bad entry: %v", err)
	}
	if got := mustRead(t, path); !slices.Equal(got, b) {
		t.Fatal("the leaf file was rewritten")
	}
}
