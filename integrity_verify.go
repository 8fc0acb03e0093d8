package eventlog

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
)

// ChainProblem is one finding of VerifyChain, with its position.
type ChainProblem struct {
	// Kind is "altered" (a stored event does not hash to its leaf),
	// "missing" (a leaf's event is not stored: removed, or erased by a
	// delete or retention), "inserted" (a stored event has no leaf though
	// later events have), "head-signature", "head-root" (a head's root is
	// not the tree's at its size: the leaves before it changed since it was
	// signed, or the head did), "head-order" (a head not consistent with
	// its predecessor) or "head-size" (a head past the leaf log's end: the
	// leaf log was cut).
	Kind string `json:"kind"`
	// Leaf is the leaf index, Seq the event's sequence number (event
	// kinds); Head the head's position in the heads file (head kinds).
	Leaf   uint64 `json:"leaf,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Head   int    `json:"head,omitempty"`
	Detail string `json:"detail"`
}

func (p ChainProblem) String() string {
	switch p.Kind {
	case "altered", "missing", "inserted":
		return fmt.Sprintf("%s: leaf %d, event %s (seq %d): %s", p.Kind, p.Leaf, IDOf(p.Seq), p.Seq, p.Detail)
	}
	return fmt.Sprintf("%s: head %d: %s", p.Kind, p.Head, p.Detail)
}

// ErasedLeaf is an erased or lost position and what erased or lost it.
type ErasedLeaf struct {
	Leaf uint64 `json:"leaf"`
	Seq  uint64 `json:"seq"`
	// By is "delete" or "retention" (erased on purpose), "repair" or
	// "restore" (lost honestly: a fork of the log). Eraser is the sequence
	// number of the event that records it: 0 for expired events compaction
	// left out (no event records a merge), and for a loss whose fork event
	// the next writable open has yet to append.
	By     string `json:"by"`
	Eraser uint64 `json:"eraser"`
}

// Lost reports whether e is an honest loss (repair, restore) rather than an
// erasure on purpose.
func (e ErasedLeaf) Lost() bool { return e.By == "repair" || e.By == "restore" }

func (e ErasedLeaf) String() string {
	if e.Lost() {
		if e.Eraser == 0 {
			return fmt.Sprintf("lost: leaf %d, event %s (seq %d), to a %s (recorded before the loss; its event is appended at the store's next writable open)", e.Leaf, IDOf(e.Seq), e.Seq, e.By)
		}
		return fmt.Sprintf("lost: leaf %d, event %s (seq %d), to the %s recorded as event %s", e.Leaf, IDOf(e.Seq), e.Seq, e.By, IDOf(e.Eraser))
	}
	if e.Eraser == 0 {
		return fmt.Sprintf("erased: leaf %d, event %s (seq %d), by %s: expired, left out when compaction merged its segment", e.Leaf, IDOf(e.Seq), e.Seq, e.By)
	}
	return fmt.Sprintf("erased: leaf %d, event %s (seq %d), by the %s recorded as event %s", e.Leaf, IDOf(e.Seq), e.Seq, e.By, IDOf(e.Eraser))
}

// ForkedHead is a head signed before a restore from an older backup that
// covers positions past the restored leaf log's: the restore replaced
// them, so its root cannot be checked against this store (its signature
// is). Only a restore record explains it; without one it is a problem
// (head-root, head-size).
type ForkedHead struct {
	Head int    `json:"head"`
	Size uint64 `json:"size"`
	// Fork is the first position the restore replaced; Eraser the event
	// recording the restore (0: not appended yet).
	Fork   uint64 `json:"fork"`
	Eraser uint64 `json:"eraser"`
}

func (f ForkedHead) String() string {
	by := "a restore from an older backup (its event is appended at the store's next writable open)"
	if f.Eraser != 0 {
		by = "the restore from an older backup recorded as event " + IDOf(f.Eraser)
	}
	return fmt.Sprintf("forked: head %d (size %d) covers leaves %d to %d, which %s replaced: its signature is checked, its root cannot be", f.Head, f.Size, f.Fork, f.Size-1, by)
}

// ChainReport is what VerifyChain found.
type ChainReport struct {
	Leaves uint64 `json:"leaves"`
	Heads  int    `json:"heads"`
	// Erased lists the positions whose events a recorded delete, retention
	// run, repair or restore erased or lost: their leaves stay, their
	// content is gone (nil when ChainOptions.OnErased took them).
	// ErasedCount and LostCount count them: erased on purpose, and lost
	// to a repair or restore.
	Erased      []ErasedLeaf `json:"erased"`
	ErasedCount uint64       `json:"erased_count"`
	LostCount   uint64       `json:"lost_count"`
	// Forked lists the heads signed before a recorded restore that cover
	// positions it replaced.
	Forked []ForkedHead `json:"forked,omitempty"`
	// Unchecked lists the sealed tiles (integrity/sealed.go: 256 live
	// leaves kept as their subtree hash, recomputed from the events) some
	// of whose events are no longer stored, so that the others cannot be
	// checked one by one; UncheckedEvents counts those others.
	Unchecked       []UncheckedTile `json:"unchecked,omitempty"`
	UncheckedEvents uint64          `json:"unchecked_events"`
	// Unleaved counts stored events after the last leaf: durable in the
	// WAL, their leaves not written yet (the next open writes them).
	Unleaved int `json:"unleaved"`
	// Problems lists what was found wrong (nil when ChainOptions.OnProblem
	// took them); ProblemCount counts them.
	Problems     []ChainProblem `json:"problems"`
	ProblemCount int            `json:"problem_count"`
}

// ChainOptions configure VerifyChainWith.
type ChainOptions struct {
	// PublicKey checks the heads' signatures; nil: the store's own key.
	PublicKey ed25519.PublicKey
	// Extra are heads kept elsewhere (a copy published away from the disk),
	// checked after the stored ones, numbered on from them.
	Extra []integrity.SignedHead
	// OnErased and OnProblem, when set, receive each erased or lost
	// position and each problem as it is found, in sequence order (the
	// heads' problems last), instead of the report listing them: the
	// verifier's memory then stays bounded whatever the store's size.
	OnErased  func(ErasedLeaf)
	OnProblem func(ChainProblem)
}

// VerifyChain recomputes every leaf from the stored events of the data
// directory dir and the salt key, and checks every stored head against the
// tree of the leaf log: signature (with pub, or the store's own public key
// if pub is nil), root at its size, and consistency with its predecessor.
// Heads kept elsewhere (extra: a copy published away from the disk) are
// checked after the stored ones, numbered on from them: a store rolled
// back or rewritten after such a head was taken fails it. It opens the
// store read-only and changes nothing.
func VerifyChain(dir string, opts Options, pub ed25519.PublicKey, extra ...integrity.SignedHead) (ChainReport, error) {
	return VerifyChainWith(dir, opts, ChainOptions{PublicKey: pub, Extra: extra})
}

// VerifyChainWith is VerifyChain with its options. A position in a range
// compacted as wholly erased (integrity.Log.CompactErased) has no leaf
// hash of its own: it is reported erased by the record naming it, its
// range's subtree hash is checked through the heads' roots, and a stored
// event there is a problem. It streams: the leaf
// log is read a slice at a time and merged with the stored events read in
// sequence order, a window at a time, so beside the tree's in-memory part
// (about a quarter of a byte per leaf) and the erasure bitmaps it holds a
// bounded number of events and leaves, whatever the store's size.
func VerifyChainWith(dir string, opts Options, co ChainOptions) (ChainReport, error) {
	opts.ReadOnly, opts.Integrity = true, true
	db, err := Open(dir, opts)
	if err != nil {
		return ChainReport{}, err
	}
	defer db.Close()
	return db.verifyChain(co)
}

// verifyLeafSlice is how many leaves the verifier reads at a time.
const verifyLeafSlice = 4096

// chainRun is one verification's state.
type chainRun struct {
	db       *DB
	co       ChainOptions
	r        ChainReport
	erasures []integrity.Erasure
	// restores are the sequence numbers of the events recording restores,
	// forkTimes their timestamps, as the stored events go by.
	restores  map[uint64]bool
	forkTimes map[uint64]time.Time
	sealed    uint64
	tile      sealedTileRun    // the sealed tile being checked
	tiles     []sealedTileHash // sealed tiles recomputed, to check
	firstSeq  uint64           // the first leaf's
	lastSeq   uint64           // the last leaf's
}

func (db *DB) verifyChain(co ChainOptions) (ChainReport, error) {
	l := db.integrity
	if co.PublicKey == nil {
		co.PublicKey = l.PublicKey()
	}
	erasures, err := l.Erasures()
	if err != nil {
		return ChainReport{}, err
	}
	c := &chainRun{db: db, co: co, erasures: integrity.ResolveForks(erasures), restores: map[uint64]bool{}, forkTimes: map[uint64]time.Time{}, sealed: db.manifest.SealedSeq}
	for _, e := range c.erasures {
		if e.Kind == integrity.LostToRestore && e.Eraser != 0 {
			c.restores[e.Eraser] = true
		}
	}
	size := l.Size()
	if size > 0 {
		if err := l.ReadLeaves(0, 1, func(_, seq uint64, _ integrity.Hash, _ [integrity.SaltSize]byte) { c.firstSeq = seq }); err != nil {
			return c.r, fmt.Errorf("eventlog: verify chain: %w", err)
		}
	}
	events := db.storedEvents()
	ev, ok, err := events.next()
	for from := uint64(0); from < size && err == nil; from += verifyLeafSlice {
		err = l.ReadLeaves(from, min(size, from+verifyLeafSlice), func(idx, seq uint64, h integrity.Hash, salt [integrity.SaltSize]byte) {
			for err == nil && ok && ev.seq < seq {
				c.unleaved(ev, true)
				ev, ok, err = events.next()
			}
			if err != nil {
				return
			}
			c.r.Leaves++
			c.lastSeq = seq
			if !ok || ev.seq > seq {
				c.noEvent(idx, seq)
				if h == integrity.SealedLeaf {
					c.sealedLeaf(idx, seq, nil, salt)
				}
				return
			}
			c.noteFork(ev)
			if h == integrity.SealedLeaf {
				c.sealedLeaf(idx, seq, &ev, salt)
			} else if h == integrity.PackedLeaf {
				c.problem(ChainProblem{Kind: "altered", Leaf: idx, Seq: seq, Detail: "the event is stored, but its position is in a range compacted as wholly erased: only the range's subtree hash is kept"})
			} else if integrity.LeafHash(seq, salt, ev.digest) != h {
				c.problem(ChainProblem{Kind: "altered", Leaf: idx, Seq: seq, Detail: "the stored event does not hash to its leaf"})
			}
			ev, ok, err = events.next()
		})
		c.checkTiles()
	}
	for err == nil && ok {
		c.unleaved(ev, false)
		ev, ok, err = events.next()
	}
	if err != nil {
		return c.r, fmt.Errorf("eventlog: verify chain: %w", err)
	}
	c.checkHeads()
	return c.r, nil
}

// unleaved classifies a stored event without a leaf. Sealing fsyncs the
// leaves of a head's events before the manifest names its segments: a
// sealed event after the first leaf without one was slipped in. Events
// before the first leaf predate the tree; WAL events after the last await
// theirs. before says a leaf with a higher sequence number follows.
func (c *chainRun) unleaved(ev storedEvent, before bool) {
	c.noteFork(ev)
	switch {
	case c.firstSeq != 0 && ev.seq < c.firstSeq:
	case before:
		c.problem(ChainProblem{Kind: "inserted", Seq: ev.seq, Detail: "a stored event without a leaf, between leaves"})
	case ev.seq <= c.sealed && c.firstSeq != 0:
		c.problem(ChainProblem{Kind: "inserted", Seq: ev.seq, Detail: "a sealed event without a leaf, after the last leaf"})
	default:
		c.r.Unleaved++
	}
}

// noteFork keeps the timestamp of an event recording a restore.
func (c *chainRun) noteFork(ev storedEvent) {
	if c.restores[ev.seq] {
		c.forkTimes[ev.seq] = ev.ts
	}
}

// noEvent reports a leaf whose event is not stored: erased or lost by a
// record that names it, else missing.
func (c *chainRun) noEvent(idx, seq uint64) {
	e := erasedBy(c.erasures, seq)
	if e == nil {
		c.problem(ChainProblem{Kind: "missing", Leaf: idx, Seq: seq, Detail: "the event of this leaf is not stored"})
		return
	}
	el := ErasedLeaf{Leaf: idx, Seq: seq, By: e.Kind.String(), Eraser: e.Eraser}
	if el.Lost() {
		c.r.LostCount++
	} else {
		c.r.ErasedCount++
	}
	if c.co.OnErased != nil {
		c.co.OnErased(el)
	} else {
		c.r.Erased = append(c.r.Erased, el)
	}
}

func (c *chainRun) problem(p ChainProblem) {
	c.r.ProblemCount++
	if c.co.OnProblem != nil {
		c.co.OnProblem(p)
	} else {
		c.r.Problems = append(c.r.Problems, p)
	}
}

// erasedBy returns the erasure that names seq, nil if none does.
func erasedBy(es []integrity.Erasure, seq uint64) *integrity.Erasure {
	for i := range es {
		if es[i].Seqs.Contains(seq) {
			return &es[i]
		}
	}
	return nil
}

// checkHeads checks every stored head, then the extra ones, against the
// leaf log's tree. A head past a recorded restore's fork whose root does
// not match (or which is past the leaf log's end), signed before the
// restore, is reported forked, not as a problem.
func (c *chainRun) checkHeads() {
	l := c.db.integrity
	stored := l.Heads(0, 0)
	heads := append(stored, c.co.Extra...)
	c.r.Heads = len(heads)
	size := l.Size()
	forks := c.restoreForks()
	for i, h := range heads {
		if err := h.Verify(c.co.PublicKey); err != nil {
			c.problem(ChainProblem{Kind: "head-signature", Head: i, Detail: err.Error()})
		}
		if i > 0 && i < len(stored) {
			prev := heads[i-1]
			if h.Size < prev.Size || (h.Size == prev.Size && h.Root != prev.Root) || h.Timestamp.Before(prev.Timestamp) {
				c.problem(ChainProblem{Kind: "head-order", Head: i, Detail: fmt.Sprintf("size %d at %s does not extend head %d (size %d at %s)", h.Size, h.Timestamp, i-1, prev.Size, prev.Timestamp)})
			}
		}
		var p *ChainProblem
		if h.Size > size {
			p = &ChainProblem{Kind: "head-size", Head: i, Detail: fmt.Sprintf("signs %d leaves; the leaf log holds %d", h.Size, size)}
		} else if root, err := l.Root(h.Size); err != nil {
			p = &ChainProblem{Kind: "head-root", Head: i, Detail: err.Error()}
		} else if root != h.Root {
			p = &ChainProblem{Kind: "head-root", Head: i, Detail: fmt.Sprintf("root of the first %d leaves is %x, the head signs %x", h.Size, root, h.Root)}
		}
		if p == nil {
			continue
		}
		if f, ok := forkOf(forks, h); ok {
			f.Head = i
			c.r.Forked = append(c.r.Forked, f)
			continue
		}
		c.problem(*p)
	}
}

// restoreFork is where a recorded restore forked the log: its first
// replaced position, its event and when that event was stored (zero: not
// appended yet, so every head predates it).
type restoreFork struct {
	leaf   uint64
	eraser uint64
	at     time.Time
}

// restoreForks returns the forks of the recorded restores. A restore's
// event is the first leaf the restored store added (appended at its first
// writable open, after the replay of the backup's WAL), so the positions
// from its leaf on are the restored store's own; before that event exists,
// the fork is at the leaf log's end.
func (c *chainRun) restoreForks() []restoreFork {
	l := c.db.integrity
	var out []restoreFork
	for _, e := range c.erasures {
		if e.Kind != integrity.LostToRestore {
			continue
		}
		f := restoreFork{leaf: l.Size(), eraser: e.Eraser}
		if e.Eraser != 0 {
			idx, ok, err := l.LeafIndex(e.Eraser)
			at, stored := c.forkTimes[e.Eraser]
			if err != nil || !ok || !stored {
				continue // its record event is gone: nothing explains the heads
			}
			f.leaf, f.at = idx, at
		}
		out = append(out, f)
	}
	return out
}

// forkOf returns the fork that explains h: h covers positions past it and
// was signed before it.
func forkOf(forks []restoreFork, h integrity.SignedHead) (ForkedHead, bool) {
	for _, f := range forks {
		if h.Size > f.leaf && (f.at.IsZero() || h.Timestamp.Before(f.at)) {
			return ForkedHead{Size: h.Size, Fork: f.leaf, Eraser: f.eraser}, true
		}
	}
	return ForkedHead{}, false
}

// storedEvent is a stored event as the verifier needs it.
type storedEvent struct {
	seq    uint64
	digest integrity.Hash
	ts     time.Time
}

// eventStream reads every stored event (deleted and expired ones excluded:
// they read as missing) in sequence order, a window of sequence numbers
// at a time.
type eventStream struct {
	db      *DB
	top     uint64
	lo      uint64
	cursors tailCursors
	buf     []byte
	window  []storedEvent
}

func (db *DB) storedEvents() *eventStream {
	return &eventStream{db: db, top: db.published.Load(), lo: 1}
}

// next returns the next stored event; false when there is none.
func (s *eventStream) next() (storedEvent, bool, error) {
	for len(s.window) == 0 {
		if s.lo > s.top || s.lo == 0 {
			return storedEvent{}, false, nil
		}
		hi := min(s.top, s.lo+tailWindow-1)
		recs, err := s.db.readSeqRange(s.lo, hi, nil, true, &s.cursors)
		if err != nil {
			return storedEvent{}, false, fmt.Errorf("read events %d..%d: %w", s.lo, hi, err)
		}
		s.window = s.window[:0]
		for _, rec := range recs {
			s.buf = event.AppendBinary(s.buf[:0], rec.ev)
			s.window = append(s.window, storedEvent{seq: rec.seq, digest: integrity.Digest(s.buf), ts: rec.ev.Timestamp.Time()})
		}
		s.lo = hi + 1
	}
	ev := s.window[0]
	s.window = s.window[1:]
	return ev, true, nil
}

// UncheckedTile is a sealed tile of which some events are gone (lost, or
// erased without their leaves written back): its stored events cannot be
// checked against the tile's subtree hash, which only all of its events
// recompute. Its gone positions are reported on their own (lost, erased
// or missing).
type UncheckedTile struct {
	First  uint64 `json:"first_leaf"`
	Last   uint64 `json:"last_leaf"`
	Stored int    `json:"stored"`
	Gone   int    `json:"gone"`
}

func (u UncheckedTile) String() string {
	return fmt.Sprintf("unchecked: leaves %d to %d: a sealed tile (its leaves are recomputed from its events), %d of whose events are gone, so its %d stored events cannot be checked", u.First, u.Last, u.Gone, u.Stored)
}

// sealedTileRun gathers a sealed tile's leaves recomputed from the stored
// events, in leaf order.
type sealedTileRun struct {
	leaves []integrity.Hash
	gone   int
}

// sealedLeaf adds leaf idx of a sealed tile (ev nil: its event is not
// stored) and, at the tile's last leaf, checks the recomputed leaves
// against the tile's stored subtree hash, which the heads' roots pin.
func (c *chainRun) sealedLeaf(idx, seq uint64, ev *storedEvent, salt [integrity.SaltSize]byte) {
	if ev == nil {
		c.tile.gone++
	} else {
		c.tile.leaves = append(c.tile.leaves, integrity.LeafHash(seq, salt, ev.digest))
	}
	if (idx+1)%integrity.TileLeaves != 0 {
		return
	}
	first := idx + 1 - integrity.TileLeaves
	defer func() { c.tile = sealedTileRun{leaves: c.tile.leaves[:0]} }()
	if c.tile.gone > 0 {
		u := UncheckedTile{First: first, Last: idx, Stored: len(c.tile.leaves), Gone: c.tile.gone}
		c.r.Unchecked = append(c.r.Unchecked, u)
		c.r.UncheckedEvents += uint64(u.Stored)
		return
	}
	// Checked once ReadLeaves returns: its callback must not call the log.
	c.tiles = append(c.tiles, sealedTileHash{first: first, seq: seq, hash: integrity.SubtreeHash(c.tile.leaves)})
}

// sealedTileHash is a sealed tile's subtree hash recomputed from its
// stored events, to check against the leaf log's.
type sealedTileHash struct {
	first, seq uint64
	hash       integrity.Hash
}

// checkTiles checks the sealed tiles recomputed so far against the
// subtree hashes the leaf log keeps (which the heads' roots pin).
func (c *chainRun) checkTiles() {
	for _, t := range c.tiles {
		last := t.first + integrity.TileLeaves - 1
		if want := c.db.integrity.TileHash(t.first / integrity.TileLeaves); t.hash != want {
			c.problem(ChainProblem{Kind: "altered", Leaf: t.first, Seq: t.seq, Detail: fmt.Sprintf("the stored events of leaves %d to %d (a sealed tile) hash to %x, the leaf log keeps %x: one of them was changed, or the leaf file was", t.first, last, t.hash, want)})
		}
	}
	c.tiles = c.tiles[:0]
}
