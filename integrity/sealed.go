package integrity

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// Sealed tiles. A leaf hash is recomputable: its data is seq, a salt
// derived from the salt key and seq, and SHA-256 of the event's binary
// form, which segments keep unchanged through compaction, purge and
// repair. So a tile (2^8 aligned leaves) whose events are all live and
// sealed into segments the manifest names keeps only its subtree hash and
// its sequence numbers (a record laid out as a packed tile, kind 3, in a
// version 3 leaf file): 49 bytes for 256 leaves instead of 11,264.
//
//   - Packing (PackSealed, and a goroutine after seals) rewrites a full
//     leaf file that is not the last once every event of it is sealed:
//     each tile of entries none of whose positions an erasure record names
//     keeps the tree's subtree hash and its entries' sequence numbers
//     (sealFile; the events are not read back, nor the entries hashed
//     again).
//   - A proof that needs hashes below a sealed tile's (an inclusion proof
//     of one of its events, a tree size inside it) recomputes its leaves
//     from the segments and checks they hash to the stored subtree hash: a
//     mismatch is ErrCorrupt naming the tile and the segments.
//   - Anything that erases events on purpose (a delete by query, a
//     retention drop, a merge leaving expired events out) calls Unpack
//     first, while the events are still stored: their tiles get their
//     entries back, and their positions are never packed again.
//   - A loss (a segment a repair cannot read) cannot be undone: the lost
//     leaves' hashes are gone with their events, so the tile's subtree
//     hash stays (roots, and proofs outside the tile, are unchanged) but
//     proofs that need a leaf inside it fail with ErrSealedTile.

// LeafSource gives back what sealed tiles' leaves are recomputed from.
type LeafSource interface {
	// SealedSeq is the sequence number up to which every stored event is
	// in segments that a durable manifest names.
	SealedSeq() uint64
	// Digests opens a reader of the stored events' digests.
	Digests() DigestReader
}

// DigestReader reads the stored events' digests in sequence order.
type DigestReader interface {
	// Read calls fn, in sequence order, with the sequence number, the
	// digest (Digest of its binary form) and the segment file's name of
	// every event with lo <= seq <= hi that the live segments hold and no
	// delete hides. Ranges must rise from call to call.
	Read(lo, hi uint64, fn func(seq uint64, d Hash, segment string)) error
	Close()
}

// ErrSourceClosed is what a LeafSource's reads return once its store is
// closing: sealing stops without a warning.
var ErrSourceClosed = errors.New("the store is closing")

// SealedLeaf is the hash ReadLeaves and ForEachLeaf give a leaf of a
// sealed tile, whose hash is recomputed from its event rather than read:
// all 0xff bytes, which no SHA-256 output is in practice. TileHash gives
// the tile's stored subtree hash to check the recomputed leaves against.
var SealedLeaf = func() Hash {
	var h Hash
	for i := range h {
		h[i] = 0xff
	}
	return h
}()

// ErrSealedTile says the leaves of a sealed tile could not be recomputed:
// one of its events is no longer stored (lost to a repair, or erased
// without Unpack), or no source of events is attached.
var ErrSealedTile = errors.New("the leaves of a sealed tile cannot be recomputed from the stored events")

// SealedStats is what one PackSealed did.
type SealedStats struct {
	// Files is how many leaf files were rewritten, Tiles how many tiles
	// were sealed, Events how many events they hold.
	Files  int           `json:"files"`
	Tiles  int           `json:"tiles"`
	Events int           `json:"events"`
	Took   time.Duration `json:"took"`
}

// SetSource attaches the source sealed tiles' leaves are recomputed from;
// without one, nothing is sealed and a proof inside a sealed tile fails.
// Call it before Start.
func (l *Log) SetSource(src LeafSource) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.src = src
	l.leaves.src = src
	l.leaves.salts = l.salts
}

// seqs returns the tile's sequence numbers.
func (p *packedTile) seqs() []uint64 {
	out := make([]uint64, 0, tileLeaves)
	for _, r := range p.runs {
		for i := range uint64(r.n) {
			out = append(out, r.first+i)
		}
	}
	return out
}

// sealedCache keeps the last tile recomputed: an inclusion proof asks for
// up to eight nodes below the tile's level, each a part of the same tile.
type sealedCache struct {
	first  uint64
	valid  bool
	hashes []Hash
}

// tileLeafHashes returns the leaf hashes of sealed tile p (leaves from
// first), recomputed from the source and checked against p's subtree
// hash; mu is held.
func (l *leafLog) tileLeafHashes(first uint64, p *packedTile) ([]Hash, error) {
	if l.cache.valid && l.cache.first == first {
		return l.cache.hashes, nil
	}
	if l.src == nil {
		return nil, fmt.Errorf("leaves %d to %d: %w: no source of events is attached", first, first+tileLeaves-1, ErrSealedTile)
	}
	r := l.src.Digests()
	defer r.Close()
	seqs := p.seqs()
	hs, segs, err := recomputeTile(r, l.salts, seqs)
	if err != nil {
		return nil, fmt.Errorf("leaves %d to %d (seq %d to %d): %w", first, first+tileLeaves-1, seqs[0], seqs[len(seqs)-1], err)
	}
	if got := reduce(hs); got != p.hash {
		return nil, fmt.Errorf("%w: leaves %d to %d (seq %d to %d), a sealed tile of %s: the events stored in segment %s hash to %x, the leaf file keeps %x: an event was changed, or the leaf file was",
			ErrCorrupt, first, first+tileLeaves-1, seqs[0], seqs[len(seqs)-1], l.fileOf(first), strings.Join(segs, ", "), got, p.hash)
	}
	l.cache = sealedCache{first: first, valid: true, hashes: hs}
	return hs, nil
}

// fileOf returns the path of the leaf file holding leaf idx.
func (l *leafLog) fileOf(idx uint64) string {
	if fi := idx / leavesPerFile; fi < uint64(len(l.files)) {
		return l.files[fi].path
	}
	return "the leaf log"
}

// recomputeTile returns the leaf hashes of the events seqs (a tile's, in
// order) read from r, and the segments that hold them. An event that r
// does not give is ErrSealedTile.
func recomputeTile(r DigestReader, salts *Salter, seqs []uint64) ([]Hash, []string, error) {
	ds, err := readDigests(r, seqs[0], seqs[len(seqs)-1])
	if err != nil {
		return nil, nil, err
	}
	return tileFrom(ds, salts, seqs)
}

// storedDigest is a stored event's digest and segment.
type storedDigest struct {
	seq uint64
	d   Hash
	seg string
}

// readDigests reads the stored events' digests in [lo, hi] from r.
func readDigests(r DigestReader, lo, hi uint64) ([]storedDigest, error) {
	var out []storedDigest
	err := r.Read(lo, hi, func(seq uint64, d Hash, seg string) {
		out = append(out, storedDigest{seq: seq, d: d, seg: seg})
	})
	return out, err
}

// tileFrom returns the leaf hashes of the events seqs (a tile's, in
// order) from ds (read in sequence order over a range holding them), and
// the segments that hold them. An event ds lacks is ErrSealedTile.
func tileFrom(ds []storedDigest, salts *Salter, seqs []uint64) ([]Hash, []string, error) {
	hs := make([]Hash, len(seqs))
	var segs []string
	j, _ := slices.BinarySearchFunc(ds, seqs[0], func(x storedDigest, seq uint64) int { return cmp.Compare(x.seq, seq) })
	for i, seq := range seqs {
		for j < len(ds) && ds[j].seq < seq {
			j++
		}
		if j == len(ds) || ds[j].seq != seq {
			return nil, nil, fmt.Errorf("%w: the event of seq %d is not stored", ErrSealedTile, seq)
		}
		hs[i] = LeafHash(seq, salts.Salt(seq), ds[j].d)
		if !slices.Contains(segs, ds[j].seg) {
			segs = append(segs, ds[j].seg)
		}
	}
	return hs, segs, nil
}

// TileHash returns the stored subtree hash of tile i (leaves i·256 to
// i·256+255), the zero hash if the tile is not complete.
func (l *Log) TileHash(i uint64) Hash {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tree.tileHash(i)
}

// TileLeaves is how many leaves a tile of the leaf log holds.
const TileLeaves = tileLeaves

// SubtreeHash returns the RFC 6962 hash of the perfect subtree over leaves
// (a power of two of them), as a tile's is kept.
func SubtreeHash(leaves []Hash) Hash { return reduce(leaves) }

// keptEntries returns the positions whose tiles must keep their entries:
// named by an erasure record, or about to be erased (pinned); mu is held.
func (l *Log) keptEntries(seqs []uint64) bool {
	for _, s := range seqs {
		if l.erased.seqs.Contains(s) || l.pinned.Contains(s) {
			return true
		}
	}
	return false
}

// PackSealed seals the tiles of every full leaf file but the last whose
// events are all sealed into segments (the source's SealedSeq), after
// checking each against the events read back. It is what the background
// goroutine runs; a failure is returned and the next call tries again.
func (l *Log) PackSealed() (SealedStats, error) {
	start := time.Now()
	var st SealedStats
	if l.opts.ReadOnly || l.src == nil {
		return st, nil
	}
	l.packMu.Lock()
	defer l.packMu.Unlock()
	sealed := l.src.SealedSeq()
	for {
		fi, ok, err := l.nextToSeal(sealed)
		if err != nil || !ok {
			st.Took = time.Since(start)
			return st, err
		}
		n, events, err := l.sealFile(fi)
		st.Events += events
		if err != nil {
			st.Took = time.Since(start)
			return st, fmt.Errorf("integrity: seal tiles: %w", err)
		}
		if n > 0 {
			st.Files++
			st.Tiles += n
		}
		l.mu.Lock()
		l.sealNext = fi + 1
		l.mu.Unlock()
		if l.stopping() {
			st.Took = time.Since(start)
			return st, nil
		}
	}
}

// stopping reports whether Close has begun.
func (l *Log) stopping() bool {
	if l.stop == nil {
		return false
	}
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// nextToSeal returns the next full leaf file, not the last, whose events
// are all sealed (false if there is none yet).
func (l *Log) nextToSeal(sealed uint64) (int, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fi := l.sealNext
	if fi+1 >= len(l.leaves.files) {
		return 0, false, nil
	}
	lf := l.leaves.files[fi]
	var last uint64
	end := lf.first + leavesPerFile
	if err := l.leaves.scan(end-1, end, false, func(_, seq uint64, _ Hash, _ bool) { last = seq }); err != nil {
		return 0, false, err
	}
	return fi, last <= sealed, nil
}

// sealFile seals the tiles of leaf file fi that can be (packMu is held):
// every tile of entries none of whose positions an erasure record names
// or Unpack pinned. It returns the tiles and events sealed.
//
// A sealed tile keeps the tree's subtree hash, the one every signed head
// was computed from, and the sequence numbers of its entries, each
// entry's CRC checked (readEntries). The entries are not hashed again: a
// first version reduced each tile's 256 leaf hashes to check them against
// the tree's, 255 node hashes per tile that the tree had made already
// (1.5 % of the server's CPU while ingesting, bench http). An entry
// changed on disk since open with a valid CRC is therefore not noticed
// here; sealing drops it in favour of the tree's hash, and proofs and
// verify --chain check every sealed tile against its events.
//
// It does not read the events back: a first version did, to seal only
// tiles proven recomputable, and that decoded whole segment blocks into
// events, 9.5 KB allocated per event, which under the store's memory
// limit is the likely reason the ingest slowed (bench http:
// 5,105 and 6,326 events/s against 30,333).
func (l *Log) sealFile(fi int) (int, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lf := l.leaves.files[fi]
	perFile := leavesPerFile / tileLeaves
	tiles, entries := make([]*packedTile, perFile), make([][]byte, perFile)
	raw := make([]byte, tileLeaves*EntrySize)
	var seqs [tileLeaves]uint64
	n := 0
	for t := range perFile {
		if lf.tiles != nil && lf.tiles[t].packed != nil {
			tiles[t] = lf.tiles[t].packed
			continue
		}
		first := lf.first + uint64(t)*tileLeaves
		if err := l.leaves.readEntries(lf, first, raw, seqs[:]); err != nil {
			return 0, 0, err
		}
		if l.keptEntries(seqs[:]) {
			entries[t] = slices.Clone(raw)
			continue
		}
		h := l.tree.tileHash(first / tileLeaves)
		if h == (Hash{}) {
			return 0, 0, fmt.Errorf("%s: the tree holds no hash of leaves %d to %d", lf.path, first, first+tileLeaves-1) // a bug: the file is full
		}
		tiles[t] = &packedTile{runs: runsOf(seqs[:]), hash: h, sealed: true}
		n++
	}
	if n == 0 {
		return 0, 0, nil
	}
	return n, n * tileLeaves, l.leaves.replace(lf, encodePackedFile(tiles, entries))
}

// readEntries reads the entries of the tile of entries of lf from leaf
// first into raw (a tile's worth), checking each one's CRC, and their
// sequence numbers into seqs.
func (l *leafLog) readEntries(lf *leafFile, first uint64, raw []byte, seqs []uint64) error {
	off, p, _ := lf.locate(first)
	if p != nil {
		return fmt.Errorf("leaves %d to %d of %s are packed, not entries", first, first+tileLeaves-1, lf.path)
	}
	if _, err := lf.f.ReadAt(raw, off); err != nil {
		return fmt.Errorf("read %s at offset %d: %w", lf.path, off, err)
	}
	for i := range seqs {
		seq, _, err := decodeEntry(raw[i*EntrySize:])
		if err != nil {
			return fmt.Errorf("%w: %s at offset %d (leaf %d): %v", ErrCorrupt, lf.path, off+int64(i*EntrySize), first+uint64(i), err)
		}
		seqs[i] = seq
	}
	return nil
}

// fileTiles returns leaf file lf's tiles as encodePackedFile takes them:
// the packed and sealed ones, and the raw entries of the others.
func (l *leafLog) fileTiles(lf *leafFile) ([]*packedTile, [][]byte, error) {
	perFile := leavesPerFile / tileLeaves
	tiles := make([]*packedTile, perFile)
	entries := make([][]byte, perFile)
	for t := range perFile {
		if lf.tiles != nil && lf.tiles[t].packed != nil {
			tiles[t] = lf.tiles[t].packed
			continue
		}
		_, _, raw, err := l.readTile(lf.first + t*tileLeaves)
		if err != nil {
			return nil, nil, err
		}
		entries[t] = raw
	}
	return tiles, entries, nil
}

// Unpack gives their entries back to the sealed tiles holding any of
// seqs, recomputed from the events while they are still stored, and keeps
// those positions from being sealed again: call it before a delete,
// retention drop or merge erases them. A tile whose leaves cannot be
// recomputed is an error (ErrSealedTile, or ErrCorrupt on a mismatch):
// the caller decides whether the erasure may go on without it.
func (l *Log) Unpack(seqs *roaring64.Bitmap) error {
	if seqs == nil || seqs.IsEmpty() || l.opts.ReadOnly {
		return nil
	}
	l.packMu.Lock()
	defer l.packMu.Unlock()
	l.mu.Lock()
	l.pinned.Or(seqs)
	todo := l.leaves.sealedTilesOf(seqs)
	l.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	if l.src == nil {
		return fmt.Errorf("integrity: unpack: %w: no source of events is attached", ErrSealedTile)
	}
	r := l.src.Digests()
	defer r.Close()
	raws := make(map[uint64][]byte, len(todo))
	for _, first := range todo {
		raw, err := l.recomputeEntries(r, first)
		if errors.Is(err, ErrSealedTile) || errors.Is(err, ErrCorrupt) {
			// An event of the tile is gone already (lost to a repair) or
			// changed: its leaves cannot come back, now or later. The
			// tile stays sealed; proofs inside it fail as they already do.
			l.opts.Logger.Error("integrity: a sealed tile's leaves cannot be recomputed before an erasure; proofs inside it fail", "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("integrity: unpack: %w", err)
		}
		raws[first] = raw
	}
	if len(raws) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaves.unpackTiles(raws)
}

// recomputeEntries returns the entries of sealed tile first, recomputed
// from r and checked against its subtree hash.
func (l *Log) recomputeEntries(r DigestReader, first uint64) ([]byte, error) {
	l.mu.Lock()
	lf := l.leaves.files[first/leavesPerFile]
	p := lf.tiles[(first-lf.first)/tileLeaves].packed
	l.mu.Unlock()
	seqs := p.seqs()
	hs, segs, err := recomputeTile(r, l.salts, seqs)
	if err != nil {
		return nil, fmt.Errorf("leaves %d to %d (seq %d to %d) in %s: %w", first, first+tileLeaves-1, seqs[0], seqs[len(seqs)-1], lf.path, err)
	}
	if got := reduce(hs); got != p.hash {
		return nil, fmt.Errorf("%w: leaves %d to %d (seq %d to %d), a sealed tile of %s: the events stored in segment %s hash to %x, the leaf file keeps %x",
			ErrCorrupt, first, first+tileLeaves-1, seqs[0], seqs[len(seqs)-1], lf.path, strings.Join(segs, ", "), got, p.hash)
	}
	raw := make([]byte, 0, tileLeaves*EntrySize)
	for i, h := range hs {
		raw = appendEntry(raw, seqs[i], h)
	}
	return raw, nil
}

// sealedTilesOf returns the first leaf of every sealed tile holding one of
// seqs, in order.
func (l *leafLog) sealedTilesOf(seqs *roaring64.Bitmap) []uint64 {
	var out []uint64
	for _, lf := range l.files {
		for t, ti := range lf.tiles {
			if p := ti.packed; p != nil && p.sealed && holdsAny(p, seqs) {
				out = append(out, lf.first+uint64(t)*tileLeaves)
			}
		}
	}
	return out
}

// holdsAny reports whether seqs holds one of p's sequence numbers.
func holdsAny(p *packedTile, seqs *roaring64.Bitmap) bool {
	for _, r := range p.runs {
		last := r.first + uint64(r.n) - 1
		below := uint64(0)
		if r.first > 0 {
			below = seqs.Rank(r.first - 1)
		}
		if seqs.Rank(last) > below {
			return true
		}
	}
	return false
}

// unpackTiles rewrites the files holding the tiles raws names (by first
// leaf) with those tiles as entries.
func (l *leafLog) unpackTiles(raws map[uint64][]byte) error {
	byFile := map[uint64][]uint64{}
	for first := range raws {
		fi := first / leavesPerFile
		byFile[fi] = append(byFile[fi], first)
	}
	files := make([]uint64, 0, len(byFile))
	for fi := range byFile {
		files = append(files, fi)
	}
	slices.Sort(files)
	for _, fi := range files {
		lf := l.files[fi]
		tiles, entries, err := l.fileTiles(lf)
		if err != nil {
			return fmt.Errorf("integrity: unpack: %w", err)
		}
		for _, first := range byFile[fi] {
			t := (first - lf.first) / tileLeaves
			tiles[t], entries[t] = nil, raws[first]
		}
		if err := l.replace(lf, encodePackedFile(tiles, entries)); err != nil {
			return fmt.Errorf("integrity: unpack: %w", err)
		}
	}
	l.cache.valid = false
	return nil
}

// runSealing is the goroutine that seals tiles as their events are
// sealed: woken by SyncThrough (a seal is under way; its manifest
// follows) and every sealCheckInterval.
func (l *Log) runSealing() {
	defer close(l.sealDone)
	t := time.NewTicker(sealCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.sealWake:
		case <-t.C:
		}
		st, err := l.PackSealed()
		if err != nil {
			if !l.stopping() && !errors.Is(err, ErrSourceClosed) {
				l.opts.Logger.Warn("integrity: sealing tiles of the leaf log failed; retrying later", "err", err)
			}
			continue
		}
		if st.Tiles > 0 {
			l.opts.Logger.Info("integrity: sealed tiles of the leaf log", "files", st.Files, "tiles", st.Tiles, "events", st.Events, "took", st.Took)
		}
	}
}

// sealCheckInterval is how often the sealing goroutine looks for leaf
// files whose events the manifest now names.
const sealCheckInterval = 2 * time.Second
