package integrity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Compaction of wholly erased ranges. A tile (2^8 aligned leaves) whose
// every position a delete or retention erased keeps only its subtree hash
// and its leaves' sequence numbers (leafpack.go): its leaf hashes are
// needed by no proof the store may be asked for, provided that
//
//   - no stored head's size falls strictly inside the tile: the root of
//     such a head, and a consistency proof from it, need hashes below the
//     tile's (such a tile stays as it is);
//   - a stored head covers the whole tile, so its subtree hash is pinned by
//     a signature and verify --chain detects a change to it;
//   - the tile is in a full leaf file that is not the last (the last is
//     appended to at fixed offsets).
//
// Proofs then need only hashes at the tile's level or above, which the
// tree keeps in memory anyway (tree.go), for every non-erased leaf and
// every size that is a tile boundary or outside packed tiles. Heads are
// signed at the tree's size, which is past every packed tile, so later
// heads never fall inside one. Losses (repair, restore) are not packed:
// their fork handling may still need the leaves.

// CompactStats is what one compaction did.
type CompactStats struct {
	// Tiles is how many tiles were packed now; Files how many leaf files
	// were rewritten; Before and After the leaf log's bytes.
	Tiles  int   `json:"tiles"`
	Files  int   `json:"files"`
	Before int64 `json:"bytes_before"`
	After  int64 `json:"bytes_after"`
}

// CompactErased packs every tile of the leaf log that is wholly erased on
// purpose and that the rules above allow. Each leaf file is rewritten
// crash-safely (written beside, fsynced, renamed over, directory fsynced):
// a crash leaves the old file or the new one, and both read the same tree.
func (l *Log) CompactErased() (CompactStats, error) {
	if l.opts.ReadOnly {
		return CompactStats{}, errors.New("integrity: read-only: cannot compact")
	}
	l.packMu.Lock()
	defer l.packMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := CompactStats{Before: l.leaves.bytes()}
	if err := l.leaves.sync(); err != nil {
		return st, fmt.Errorf("integrity: compact: %w", err)
	}
	sizes := make([]uint64, len(l.heads.heads))
	for i, h := range l.heads.heads {
		sizes[i] = h.Size
	}
	for fi := 0; fi+1 < len(l.leaves.files); fi++ {
		n, _, err := l.leaves.pack(fi, l.packRule(), l.tree.tileHash)
		if err != nil {
			return st, fmt.Errorf("integrity: compact: %w", err)
		}
		st.Tiles += n
		if n > 0 {
			st.Files++
		}
	}
	st.After = l.leaves.bytes()
	return st, nil
}

// packRule returns packable over the current heads and erasures; mu is
// held.
func (l *Log) packRule() func(first uint64, seqs []uint64) packVerdict {
	sizes := make([]uint64, len(l.heads.heads))
	for i, h := range l.heads.heads {
		sizes[i] = h.Size
	}
	return func(first uint64, seqs []uint64) packVerdict {
		return packable(first, seqs, l.erased.purposed, sizes)
	}
}

// packVerdict is what packable says of a tile.
type packVerdict int

const (
	packNo   packVerdict = iota // not wholly erased, or a head inside
	packWait                    // wholly erased, but no head covers it yet
	packYes
)

// packable says whether the tile of leaves [first, first+tileLeaves)
// with sequence numbers seqs may be packed: every one erased on purpose,
// no head size strictly inside it, and some head covering it whole.
func packable(first uint64, seqs []uint64, erased *roaring64.Bitmap, headSizes []uint64) packVerdict {
	covered := false
	for _, s := range headSizes {
		if s > first && s < first+tileLeaves {
			return packNo
		}
		covered = covered || s >= first+tileLeaves
	}
	for _, s := range seqs {
		if !erased.Contains(s) {
			return packNo
		}
	}
	if !covered {
		return packWait
	}
	return packYes
}

// pack rewrites leaf file fi as version 2 with every tile ok accepts
// packed (and the ones packed before), and returns how many it packed
// now and whether a tile waits for a head to cover it. want gives the tree's hash of a tile: a packed tile's must match,
// or the leaf log and the tree disagree and nothing is written.
func (l *leafLog) pack(fi int, ok func(first uint64, seqs []uint64) packVerdict, want func(tile uint64) Hash) (int, bool, error) {
	lf := l.files[fi]
	perFile := leavesPerFile / tileLeaves
	tiles := make([]*packedTile, perFile)
	entries := make([][]byte, perFile)
	packed, wait := 0, false
	for t := range perFile {
		first := lf.first + t*tileLeaves
		if lf.tiles != nil && lf.tiles[t].packed != nil {
			tiles[t] = lf.tiles[t].packed
			continue
		}
		seqs, hashes, raw, err := l.readTile(first)
		if err != nil {
			return 0, false, err
		}
		if v := ok(first, seqs); v != packYes {
			wait = wait || v == packWait
			entries[t] = raw
			continue
		}
		p := &packedTile{runs: runsOf(seqs), hash: reduce(hashes)}
		if w := want(first / tileLeaves); w != p.hash {
			return 0, false, fmt.Errorf("%w: %s: leaves %d to %d hash to %x, the tree holds %x", ErrCorrupt, lf.path, first, first+tileLeaves-1, p.hash, w)
		}
		tiles[t] = p
		packed++
	}
	if packed == 0 {
		return 0, wait, nil
	}
	return packed, wait, l.replace(lf, encodePackedFile(tiles, entries))
}

// readTile reads the tile of leaves from first: sequence numbers, hashes
// and the raw entries (checked).
func (l *leafLog) readTile(first uint64) ([]uint64, []Hash, []byte, error) {
	seqs := make([]uint64, 0, tileLeaves)
	hashes := make([]Hash, 0, tileLeaves)
	raw := make([]byte, 0, tileLeaves*EntrySize)
	err := l.read(first, first+tileLeaves, func(_, seq uint64, h Hash) {
		seqs = append(seqs, seq)
		hashes = append(hashes, h)
		raw = appendEntry(raw, seq, h)
	})
	return seqs, hashes, raw, err
}

// encodePackedFile encodes a version 2 leaf file, or 3 if a tile is
// sealed: tile t is tiles[t] packed or sealed, else entries[t].
func encodePackedFile(tiles []*packedTile, entries [][]byte) []byte {
	version := uint32(leafVersionPacked)
	for _, p := range tiles {
		if p != nil && p.sealed {
			version = leafVersionSealed
		}
	}
	b := appendFileHeader(nil, leafMagic, version)
	for t, p := range tiles {
		if p != nil {
			b = appendPackedTile(b, p)
			continue
		}
		b = append(b, tileEntries)
		b = append(b, entries[t]...)
	}
	return b
}

// replace puts data in place of lf's file crash-safely and reopens it.
// The file's leaves are the same, so nothing else changes.
func (l *leafLog) replace(lf *leafFile, data []byte) error {
	after := uint64(0)
	if lf.first > 0 {
		// The file's first leaf follows the previous file's last.
		if err := l.scan(lf.first-1, lf.first, false, func(_, seq uint64, _ Hash, _ bool) { after = seq }); err != nil {
			return err
		}
	}
	tiles, _, err := decodePackedFile(data, lf.first, after, func(uint64, Hash, int) {})
	if err != nil {
		return fmt.Errorf("%s: the packed form does not decode: %w", lf.path, err) // a bug: write nothing
	}
	err = vfs.WriteFileAtomic(l.fs, lf.path, data)
	if err != nil && !errors.Is(err, vfs.ErrMaybeReplaced) {
		_ = l.fs.Remove(lf.path + ".tmp") // best effort; open removes it too
		return fmt.Errorf("rewrite %s: %w", lf.path, err)
	}
	// Renamed: the new file is in place (perhaps not durably yet, but
	// either form reads the same leaves), so read from it from now on.
	f, oerr := l.fs.OpenFile(lf.path, os.O_RDWR, 0)
	if oerr != nil {
		return errors.Join(err, fmt.Errorf("reopen %s: %w", lf.path, oerr))
	}
	lf.f.Close()
	lf.f, lf.tiles, lf.bytes = f, tiles, int64(len(data))
	l.dropTileHashes(lf) // a version 2 or 3 file has none
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", lf.path, err)
	}
	return nil
}

// removePackLeftovers removes the temporary files of a rewrite a crash
// interrupted: the file it was to replace is still whole.
func removePackLeftovers(fsys vfs.FS, dir string) error {
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), leafSuffix+".tmp") {
			if err := fsys.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// bytes returns the leaf log's size on disk.
func (l *leafLog) bytes() int64 {
	var n int64
	for _, f := range l.files {
		n += f.size()
	}
	return n
}

// packedLeaves returns how many leaves packed (sealed: sealed) tiles
// hold, and their records' bytes.
func (l *leafLog) packedLeaves(sealed bool) (uint64, int64) {
	var n uint64
	var b int64
	for _, f := range l.files {
		for _, t := range f.tiles {
			if t.packed != nil && t.packed.sealed == sealed {
				n += tileLeaves
				b += int64(packedFixed + len(t.packed.runs)*runSize)
			}
		}
	}
	return n, b
}

// Compaction on its own: Open (for the erasures recorded before) and
// RecordErasure mark the leaf files holding the positions a delete or
// retention erased, and the background goroutine packs them after each
// signing tick (a tile waits for a head to cover it).

// markForPacking marks the leaf files holding e's positions; mu is held.
func (l *Log) markForPacking(e Erasure) {
	if (e.Kind != ErasedByDelete && e.Kind != ErasedByRetention) || e.Seqs.IsEmpty() || l.opts.ReadOnly {
		return
	}
	if err := l.leaves.flush(); err != nil {
		l.opts.Logger.Warn("integrity: cannot mark erased leaves for compaction", "err", err)
		return
	}
	lo, err1 := l.leaves.lowerBound(e.Seqs.Minimum())
	hi, err2 := l.leaves.lowerBound(e.Seqs.Maximum())
	if err := errors.Join(err1, err2); err != nil {
		l.opts.Logger.Warn("integrity: cannot mark erased leaves for compaction", "err", err)
		return
	}
	if l.toPack == nil {
		l.toPack = map[int]bool{}
	}
	for fi := lo / leavesPerFile; fi <= hi/leavesPerFile && fi < uint64(len(l.leaves.files)); fi++ {
		l.toPack[int(fi)] = true
	}
}

// packMarked packs the marked files that are full and not the last; a
// file stays marked while it is the last or a tile of it waits for a
// head. A failure is logged: the next tick tries again. It takes mu a
// file at a time, so appends and proofs wait for one file at most.
func (l *Log) packMarked() {
	l.packMu.Lock() // as CompactErased: a backup's copy pauses it
	defer l.packMu.Unlock()
	l.mu.Lock()
	files := make([]int, 0, len(l.toPack))
	for fi := range l.toPack {
		files = append(files, fi)
	}
	l.mu.Unlock()
	for _, fi := range files {
		l.packFile(fi)
	}
}

// packFile packs marked file fi, unmarking it when nothing in it waits.
func (l *Log) packFile(fi int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fi+1 >= len(l.leaves.files) {
		return
	}
	n, wait, err := l.leaves.pack(fi, l.packRule(), l.tree.tileHash)
	if err != nil {
		l.opts.Logger.Error("integrity: packing wholly erased leaves failed", "file", l.leaves.files[fi].path, "err", err)
		return
	}
	if n > 0 {
		l.opts.Logger.Info("integrity: packed wholly erased tiles of the leaf log", "file", l.leaves.files[fi].path, "tiles", n)
	}
	if !wait {
		delete(l.toPack, fi)
	}
}

// PausePacking keeps CompactErased from rewriting leaf files until resume
// is called. Leaf files are otherwise only appended to, so a copy that
// reads them one after another (a backup) sees each whole; a file packed
// and renamed over under it would read short.
func (l *Log) PausePacking() (resume func()) {
	l.packMu.Lock()
	return l.packMu.Unlock
}
