package integrity

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// tileHashDamage changes the tile hash file at path as a crash, a bit
// flip, a stale copy or a lost file would; kind picks which.
func tileHashDamage(t *rapid.T, path string, kind int) {
	b := mustRead(t, path)
	var err error
	switch kind {
	case 0: // left as it is
	case 1: // lost
		err = os.Remove(path)
	case 2: // cut anywhere, header included
		err = os.Truncate(path, int64(rapid.IntRange(0, len(b)).Draw(t, "cut")))
	case 3: // a flipped bit anywhere, header included
		i := rapid.IntRange(0, len(b)-1).Draw(t, "flip")
		b[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "bit")
		err = os.WriteFile(path, b, 0o644)
	case 4: // two records swapped: each well formed, neither its tile's
		if n := (len(b) - fileHeaderSize) / tileRecordSize; n >= 2 {
			r0 := append([]byte(nil), b[fileHeaderSize:fileHeaderSize+tileRecordSize]...)
			copy(b[fileHeaderSize:], b[fileHeaderSize+tileRecordSize:fileHeaderSize+2*tileRecordSize])
			copy(b[fileHeaderSize+tileRecordSize:], r0)
			err = os.WriteFile(path, b, 0o644)
		}
	case 5: // zeros past the header, as a preallocated or torn file
		clear(b[min(len(b), fileHeaderSize):])
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestTileHashesProperty: whatever happened to the tile hash files (lost,
// cut, bit-flipped, records swapped, zeroed), opening the log gives the
// tree of its leaves (root and every inclusion proof checked against the
// model, mth), hashing only the tiles whose record is not good; and a
// writable open writes the records back, so the next open hashes none.
func TestTileHashesProperty(t *testing.T) {
	smallFiles(t) // 4 tiles a file: several files
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "tilehashes")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		l, err := Open(dir, Options{})
		if err != nil {
			rt.Fatal(err)
		}
		key := mustSaltKey(rt, dir)
		n := rapid.IntRange(0, int(3*leavesPerFile)).Draw(rt, "leaves")
		var model []Hash
		seq := uint64(1)
		for len(model) < n {
			k := min(n-len(model), rapid.IntRange(1, 300).Draw(rt, "batch"))
			ds := make([]Hash, k)
			for i := range ds {
				ds[i] = Digest([]byte{byte(seq), byte(seq >> 8), byte(i)})
				model = append(model, refLeafOf(key, seq+uint64(i), ds[i]))
			}
			l.Commit(seq, ds)
			l.Durable(seq + uint64(k) - 1)
			if err := l.CatchUp(); err != nil {
				rt.Fatal(err)
			}
			seq += uint64(k) + uint64(rapid.IntRange(0, 2).Draw(rt, "gap"))
		}
		if err := l.Close(); err != nil {
			rt.Fatal(err)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "leaves", "*"+tileHashSuffix))
		bad := 0
		for _, p := range paths {
			kind := rapid.IntRange(0, 5).Draw(rt, "damage")
			if kind != 0 {
				bad++
			}
			tileHashDamage(rt, p, kind)
		}
		for round := range 2 {
			l, err := Open(dir, Options{})
			if err != nil {
				rt.Fatal(err)
			}
			if l.Size() != uint64(n) {
				rt.Fatalf("round %d: size %d, want %d", round, l.Size(), n)
			}
			if root, err := l.Root(uint64(n)); err != nil || root != mth(model) {
				rt.Fatalf("round %d: root %x (%v), want %x", round, root, err, mth(model))
			}
			for _, size := range []uint64{uint64(n) / 2, uint64(n)} {
				for _, idx := range []uint64{0, size / 3, size - 1} {
					if size == 0 {
						continue
					}
					hs, err := l.tree.inclusion(idx, size, l.read)
					root := mth(model[:size])
					if err == nil {
						err = proof.VerifyInclusion(hasher, idx, size, model[idx][:], hashBytes(hs), root[:])
					}
					if err != nil {
						rt.Fatalf("round %d: inclusion of leaf %d in %d: %v", round, idx, size, err)
					}
				}
			}
			hashed := l.leaves.hashedAtOpen
			if err := l.Close(); err != nil {
				rt.Fatal(err)
			}
			if round == 1 && hashed != 0 {
				rt.Fatalf("the open after a writable open hashed %d tiles; their records should be back", hashed)
			}
			if round == 0 && bad == 0 && hashed != 0 {
				rt.Fatalf("no record was damaged, yet open hashed %d tiles", hashed)
			}
		}
	})
}

// TestTileHashesReadOnly: a read-only open uses good records, hashes the
// tiles of bad ones, and changes nothing.
func TestTileHashesReadOnly(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	ds := numberedDigests(3*tileLeaves + 5)
	l.Commit(1, ds)
	l.Durable(uint64(len(ds)))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "leaves", tileHashFileName(0))
	b := mustRead(t, path)
	if want := fileHeaderSize + 3*tileRecordSize; len(b) != want {
		t.Fatalf("tile hash file of %d bytes, want %d (3 complete tiles)", len(b), want)
	}
	b[fileHeaderSize+tileRecordSize+9] ^= 1 // the second record's hash
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	key := mustSaltKey(t, dir)
	model := refLeaves(key, ds)
	if root, err := r.Root(r.Size()); err != nil || root != mth(model) {
		t.Fatalf("read-only root %x (%v), want %x", root, err, mth(model))
	}
	if r.leaves.hashedAtOpen != 1 {
		t.Fatalf("read-only open hashed %d tiles, want 1 (the damaged record's)", r.leaves.hashedAtOpen)
	}
	if got := mustRead(t, path); string(got) != string(b) {
		t.Fatal("a read-only open changed the tile hash file")
	}
}

// TestTileHashesDroppedWithVersion1: a leaf file rewritten as version 2
// or 3 loses its tile hash file, and a leftover one (a crash between the
// rename and the removal) is removed by the next writable open.
func TestTileHashesDroppedWithVersion1(t *testing.T) {
	smallFiles(t)
	dir := t.TempDir()
	l := openLog(t, dir)
	ds := numberedDigests(int(leavesPerFile) + 10)
	l.Commit(1, ds)
	l.Durable(uint64(len(ds)))
	if err := l.CatchUp(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "leaves", tileHashFileName(0))
	saved := mustRead(t, path)
	l.mu.Lock()
	lf := l.leaves.files[0]
	tiles, entries, err := l.leaves.fileTiles(lf)
	if err == nil {
		tiles[0] = &packedTile{runs: []seqRun{{first: 1, n: tileLeaves}}, hash: l.tree.tileHash(0)}
		entries[0] = nil
		err = l.leaves.replace(lf, encodePackedFile(tiles, entries))
	}
	l.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the tile hash file of a version 2 leaf file is still there: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, saved, 0o644); err != nil { // as a crash would leave it
		t.Fatal(err)
	}
	l = openLog(t, dir)
	defer l.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a leftover tile hash file beside a version 2 leaf file survived open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "leaves", tileHashFileName(leavesPerFile))); err != nil {
		t.Fatalf("the last (version 1) leaf file has no tile hash file: %v", err)
	}
}

// FuzzTileHashFile: whatever bytes the tile hash file holds, open never
// fails because of them and gives the tree of the leaf file's entries.
func FuzzTileHashFile(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	ds := numberedDigests(2*tileLeaves + 3)
	l.Commit(1, ds)
	l.Durable(uint64(len(ds)))
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	key := mustSaltKey(f, dir)
	model := refLeaves(key, ds)
	want := mth(model)
	path := filepath.Join(dir, "leaves", tileHashFileName(0))
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:fileHeaderSize+tileRecordSize+7])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ll, err := openLeafLog(vfs.OS{}, filepath.Join(dir, "leaves"), true, nil, func(uint64, Hash, int) {})
		if err != nil {
			t.Fatalf("open with a tile hash file of %d bytes: %v", len(b), err)
		}
		ll.close()
		r, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if root, err := r.Root(r.Size()); err != nil || root != want || r.Size() != uint64(len(ds)) {
			t.Fatalf("root %x of %d leaves (%v), want %x of %d", root, r.Size(), err, want, len(ds))
		}
	})
}

// goldenTileHashes is the tile hash fixture: the records of three tiles
// of entries (seq 1.., the hash of "leaf i"), as FORMAT.md lays them out,
// and the entries they are bound to.
func goldenTileHashes() (file []byte, entries [][]byte) {
	file = appendFileHeader(nil, tileHashMagic, tileHashVersion)
	for t := range 3 {
		var sums tileSums
		var hs []Hash
		var es []byte
		for i := range tileLeaves {
			seq := uint64(1 + t*tileLeaves + i)
			h := sha256.Sum256(fmt.Appendf(nil, "leaf %d", seq))
			es = appendEntry(es, seq, h)
			sums.set(i, es[i*EntrySize:])
			hs = append(hs, h)
		}
		file = appendTileRecord(file, &sums, uint64((t+1)*tileLeaves), mth(hs))
		entries = append(entries, es)
	}
	return file, entries
}

// TestTileHashFileGolden: the fixture holds FORMAT.md's bytes (header,
// then 44-byte records whose CRC32C covers the tile's entry CRCs and the
// record's first 40 bytes), this build writes the same bytes, and each
// record gives its tile's hash for its entries and nothing for another
// tile's. INTEGRITY_UPDATE_GOLDEN=1 regenerates it.
func TestTileHashFileGolden(t *testing.T) {
	path := filepath.Join("testdata", "tiles-v1", tileHashFileName(0))
	enc, entries := goldenTileHashes()
	b := goldenFixture(t, path, enc)
	if len(b) != 16+3*44 || string(b[:8]) != "EVLTILES" || binary.LittleEndian.Uint32(b[8:]) != 1 ||
		binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli) {
		t.Fatalf("fixture of %d bytes does not start with FORMAT.md's header", len(b))
	}
	if string(b) != string(enc) {
		t.Fatal("this build writes the fixture differently")
	}
	for tile, es := range entries {
		rec := b[16+tile*44:]
		crcs := make([]byte, 0, tileLeaves*4)
		var hs []Hash
		for i := range tileLeaves {
			e := es[i*EntrySize : (i+1)*EntrySize]
			crcs = append(crcs, e[40:44]...)
			hs = append(hs, Hash(e[8:40]))
		}
		want := crc32.Update(crc32.Checksum(crcs, castagnoli), castagnoli, rec[:40])
		if binary.LittleEndian.Uint64(rec) != uint64((tile+1)*tileLeaves) || Hash(rec[8:40]) != mth(hs) || binary.LittleEndian.Uint32(rec[40:]) != want {
			t.Fatalf("record %d is not seq, subtree hash and CRC as FORMAT.md says", tile)
		}
		var sums tileSums
		for i := range tileLeaves {
			sums.set(i, es[i*EntrySize:])
		}
		if h, ok := decodeTileRecord(rec, &sums, uint64((tile+1)*tileLeaves)); !ok || h != mth(hs) {
			t.Fatalf("record %d does not decode for its own tile", tile)
		}
		if _, ok := decodeTileRecord(b[16+((tile+1)%3)*44:], &sums, uint64((tile+1)*tileLeaves)); ok {
			t.Fatalf("another tile's record decodes for tile %d", tile)
		}
	}
}

// TestTileHashFailuresAreNotErrors: a tile hash file that cannot be
// created or written changes nothing the log answers (the leaves are
// written and the tree is right); the next open hashes those tiles from
// their entries and writes their records.
func TestTileHashFailuresAreNotErrors(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpCreate, vfs.OpWrite} {
		t.Run(string(op), func(t *testing.T) {
			dir := t.TempDir()
			faulty := vfs.NewFaulty(vfs.OS{})
			faulty.FailIf(op, errors.New("injected"), func(path string) bool { return strings.HasSuffix(path, tileHashSuffix) })
			l, err := Open(dir, Options{FS: faulty})
			if err != nil {
				t.Fatal(err)
			}
			ds := numberedDigests(2*tileLeaves + 1)
			l.Commit(1, ds)
			if err := l.SyncThrough(uint64(len(ds))); err != nil {
				t.Fatalf("sync with the tile hash file failing: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			key := mustSaltKey(t, dir)
			model := refLeaves(key, ds)
			for round, want := range []int{2, 0} {
				r := openLog(t, dir)
				if root, err := r.Root(r.Size()); err != nil || root != mth(model) {
					t.Fatalf("open %d: root %x (%v), want %x", round, root, err, mth(model))
				}
				if r.leaves.hashedAtOpen != want {
					t.Fatalf("open %d hashed %d tiles, want %d", round, r.leaves.hashedAtOpen, want)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestTileHashAcrossOpens: a tile begun before an open (its first entries
// read back, then the last of them cut as a torn tail) and completed after
// it gets a good record: the next open hashes no tile, and the tree is
// the model's.
func TestTileHashAcrossOpens(t *testing.T) {
	dir := t.TempDir()
	var ds []Hash
	commit := func(l *Log, n int) {
		t.Helper()
		first := uint64(len(ds) + 1)
		batch := make([]Hash, n)
		for i := range batch {
			batch[i] = Digest([]byte{byte(len(ds) + i), byte((len(ds) + i) >> 8), 9})
		}
		ds = append(ds, batch...)
		l.Commit(first, batch)
		if err := l.SyncThrough(uint64(len(ds))); err != nil {
			t.Fatal(err)
		}
	}
	l := openLog(t, dir)
	commit(l, 100)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "leaves", leafFileName(0))
	if err := os.Truncate(path, leafHeaderSize+99*EntrySize+7); err != nil { // the 100th entry torn
		t.Fatal(err)
	}
	l = openLog(t, dir)
	if l.Size() != 99 {
		t.Fatalf("size after the cut %d, want 99", l.Size())
	}
	ds = ds[:99] // the WAL's replay commits the 100th again, as here
	commit(l, 3*tileLeaves)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	key := mustSaltKey(t, dir)
	model := refLeaves(key, ds)
	r := openLog(t, dir)
	defer r.Close()
	if root, err := r.Root(r.Size()); err != nil || r.Size() != uint64(len(ds)) || root != mth(model) {
		t.Fatalf("root %x of %d leaves (%v), want %x of %d", root, r.Size(), err, mth(model), len(ds))
	}
	if r.leaves.hashedAtOpen != 0 {
		t.Fatalf("open hashed %d tiles; every complete tile's record was written", r.leaves.hashedAtOpen)
	}
}

// numberedDigests returns n event digests, each of its index.
func numberedDigests(n int) []Hash {
	ds := make([]Hash, n)
	for i := range ds {
		ds[i] = Digest([]byte{byte(i), byte(i >> 8)})
	}
	return ds
}

// refLeaves returns the leaves of ds committed from sequence 1 under the
// salt key: what the reference tree (mth) is made of.
func refLeaves(key []byte, ds []Hash) []Hash {
	leaves := make([]Hash, len(ds))
	for i := range ds {
		leaves[i] = refLeafOf(key, uint64(i+1), ds[i])
	}
	return leaves
}
