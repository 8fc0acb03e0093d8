package integrity

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Options configure a Log. The zero value of each field is documented.
type Options struct {
	// FS is the file system; nil means vfs.OS.
	FS vfs.FS
	// ReadOnly opens without creating or changing anything.
	ReadOnly bool
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// Now stamps heads; nil means time.Now.
	Now func() time.Time
	// SignInterval is how often a new head is signed when the tree has
	// grown, and wholly erased tiles of the leaf files that erasures since
	// open touched are packed (compact.go); 0 means only on demand
	// (Log.Sign, Log.CompactErased).
	SignInterval time.Duration
}

// Log is the Merkle tree over a store's durable events: it numbers
// committed events as they become durable, appends their leaf hashes to the
// leaf log, signs heads and answers proofs. Its methods are safe for
// concurrent use.
type Log struct {
	opts  Options
	dir   string
	keys  keys
	salts *Salter

	// pendMu guards pending, the committed events not yet known durable, in
	// sequence order. It is taken under the WAL's ordering lock, so it
	// guards nothing slow.
	pendMu  sync.Mutex
	pending []committed
	// durable is the highest sequence number known durable.
	durable atomic.Uint64

	// packMu keeps CompactErased from rewriting leaf files while a copy
	// of them is read (PausePacking); taken before mu.
	packMu sync.Mutex
	// mu guards the leaf log, the tree and the heads.
	mu     sync.Mutex
	leaves *leafLog
	tree   tree
	heads  *headsLog
	erased erasedSet // what the erasure records name (cost.go)
	// toPack marks the leaf files where erasures recorded since open may
	// have left wholly erased tiles to pack (compact.go).
	toPack map[int]bool
	// src recomputes sealed tiles' leaves; pinned are positions about to
	// be erased (Unpack), never sealed again; sealNext is the first leaf
	// file PackSealed has not been through (sealed.go).
	src      LeafSource
	pinned   *roaring64.Bitmap
	sealNext int
	sealWake chan struct{}
	sealDone chan struct{}

	wake       chan struct{}
	stop, done chan struct{}
	closeOnce  sync.Once
}

// committed is a batch of committed events: their digests, in sequence
// order from first.
type committed struct {
	first   uint64
	digests []Hash
}

// Open opens (creating unless ReadOnly) the integrity data in dir: keys,
// leaf log (dir/leaves) and heads. It does not start the background work:
// see Start.
func Open(dir string, opts Options) (*Log, error) {
	if opts.FS == nil {
		opts.FS = vfs.OS{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{opts: opts, dir: dir, wake: make(chan struct{}, 1), sealWake: make(chan struct{}, 1), pinned: roaring64.New()}
	l.tree.sums = newFixedSums() // used under mu
	var err error
	fresh, err := isFresh(opts.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if l.keys, err = loadKeys(opts.FS, dir, opts.ReadOnly, fresh); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	l.salts = NewSalter(l.keys.salt)
	if l.leaves, err = openLeafLog(opts.FS, filepath.Join(dir, "leaves"), opts.ReadOnly, opts.Logger, l.visitLeaf); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if l.heads, err = openHeads(opts.FS, filepath.Join(dir, HeadsFile), opts.ReadOnly, opts.Logger); err != nil {
		l.leaves.close()
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if err := loadErasedSet(l); err != nil {
		l.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if err := opts.FS.SyncDir(dir); err != nil {
			l.Close()
			return nil, fmt.Errorf("integrity: fsync %s: %w", dir, err)
		}
	}
	l.durable.Store(l.leaves.lastSeq)
	return l, nil
}

// visitLeaf adds what the leaf log holds, at open, to the tree: a leaf, or
// a tile's subtree hash (a packed or sealed tile's, or one a tile hash
// file holds). A version 1 file after a version 2 one
// resumes at a tile boundary, as every file holds whole tiles.
func (l *Log) visitLeaf(_ uint64, h Hash, n int) {
	if n == 1 {
		l.tree.add(h)
		return
	}
	l.tree.addTile(h)
}

// isFresh reports whether dir holds no leaf file and no head: nothing
// made with keys yet.
func isFresh(fsys vfs.FS, dir string) (bool, error) {
	files, err := listLeafFiles(fsys, filepath.Join(dir, "leaves"))
	if err != nil || len(files) > 0 {
		return false, err
	}
	st, err := fsys.Stat(filepath.Join(dir, HeadsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return st.Size() <= 16, nil
}

// Start starts the background work: appending leaves as events become
// durable and, with SignInterval, signing heads. Close stops it.
func (l *Log) Start() {
	if l.opts.ReadOnly || l.stop != nil {
		return
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.run()
	if l.src != nil {
		l.sealDone = make(chan struct{})
		go l.runSealing()
	}
}

// run is the background goroutine; it exits when Close closes l.stop.
func (l *Log) run() {
	defer close(l.done)
	var tick <-chan time.Time
	if l.opts.SignInterval > 0 {
		t := time.NewTicker(l.opts.SignInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
			if err := l.CatchUp(); err != nil {
				l.opts.Logger.Error("integrity: appending leaves failed", "err", err)
			}
		case <-tick:
			if _, err := l.signIfGrown(); err != nil {
				l.opts.Logger.Error("integrity: signing a tree head failed", "err", err)
			}
			l.packMarked()
		}
	}
}

// LastSeq returns the sequence number of the last event with a leaf or
// pending one: a replayed event at or below it already has its leaf. It
// is exact while nothing is committed or made durable concurrently (at
// open, where it is used).
func (l *Log) LastSeq() uint64 {
	// mu before pendMu, as catchUpLocked takes them: the leaves' last seq
	// first, then any pending one (which is later).
	l.mu.Lock()
	last := l.leaves.lastSeq
	l.mu.Unlock()
	l.pendMu.Lock()
	defer l.pendMu.Unlock()
	if n := len(l.pending); n > 0 {
		p := l.pending[n-1]
		last = max(last, p.first+uint64(len(p.digests))-1)
	}
	return last
}

// Commit records committed events first, first+1, ... by their digests.
// Calls must come in sequence order (the WAL's commit callback); digests
// is copied. The events get leaves once Durable covers them.
func (l *Log) Commit(first uint64, digests []Hash) {
	if len(digests) == 0 {
		return
	}
	c := committed{first: first, digests: append([]Hash(nil), digests...)}
	l.pendMu.Lock()
	l.pending = append(l.pending, c)
	l.pendMu.Unlock()
}

// Durable says every committed event up to seq is durable; the background
// goroutine gives them leaves.
func (l *Log) Durable(seq uint64) {
	for {
		cur := l.durable.Load()
		if seq <= cur || l.durable.CompareAndSwap(cur, seq) {
			break
		}
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// takeDurable removes and returns the pending events up to the durable
// sequence number.
func (l *Log) takeDurable() []committed {
	d := l.durable.Load()
	l.pendMu.Lock()
	defer l.pendMu.Unlock()
	n := 0
	for n < len(l.pending) && l.pending[n].first <= d {
		n++
	}
	out := append([]committed(nil), l.pending[:n]...)
	if n > 0 {
		if last := out[n-1]; last.first+uint64(len(last.digests))-1 > d {
			keep := d - last.first + 1
			out[n-1].digests = last.digests[:keep]
			l.pending[n-1] = committed{first: d + 1, digests: last.digests[keep:]}
			n--
		}
	}
	l.pending = append(l.pending[:0], l.pending[n:]...)
	return out
}

// CatchUp gives leaves to every durable event that lacks one and writes
// them to the leaf log (not fsynced: the WAL still holds their events).
func (l *Log) CatchUp() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.catchUpLocked()
}

// A failed write (a full disk) keeps the leaves queued: the next call
// writes them.
func (l *Log) catchUpLocked() error {
	for _, c := range l.takeDurable() {
		for i, d := range c.digests {
			seq := c.first + uint64(i)
			if seq <= l.leaves.lastSeq && l.tree.size > 0 {
				continue // a replayed event that already has its leaf
			}
			h := l.tree.sums.leafHash(seq, l.salts.Salt(seq), d)
			l.leaves.add(seq, h)
			l.tree.add(h)
			if l.tree.size%tileLeaves == 0 {
				l.leaves.tileDone(l.tree.tileHash(l.tree.size/tileLeaves - 1))
			}
		}
	}
	if err := l.leaves.flush(); err != nil {
		return fmt.Errorf("integrity: %w", err)
	}
	return nil
}

// SyncThrough makes the leaves of every event up to seq durable: the
// caller (sealing) knows them durable and is about to let the WAL drop
// them, after which they could not be rebuilt.
func (l *Log) SyncThrough(seq uint64) error {
	l.Durable(seq)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.catchUpLocked(); err != nil {
		return err
	}
	if err := l.leaves.sync(); err != nil {
		return fmt.Errorf("integrity: %w", err)
	}
	select { // a seal is under way: its events' tiles may be sealed soon
	case l.sealWake <- struct{}{}:
	default:
	}
	return nil
}

// Size returns the number of leaves.
func (l *Log) Size() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tree.size
}

// PublicKey returns the key heads are signed with.
func (l *Log) PublicKey() ed25519.PublicKey { return l.keys.signer.Public().(ed25519.PublicKey) }

// read reads leaf hashes [from, to) from the leaf log; mu is held.
func (l *Log) read(from, to uint64) ([]Hash, error) {
	out := make([]Hash, 0, to-from)
	err := l.leaves.read(from, to, func(_, _ uint64, h Hash) { out = append(out, h) })
	return out, err
}

// Root returns the root hash of the tree of size leaves.
func (l *Log) Root(size uint64) (Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tree.root(size, l.read)
}

// Sign catches up, then signs and stores a head over every durable leaf.
func (l *Log) Sign() (SignedHead, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.signLocked()
}

func (l *Log) signLocked() (SignedHead, error) {
	if l.opts.ReadOnly {
		return SignedHead{}, errors.New("integrity: read-only: cannot sign heads")
	}
	if err := l.catchUpLocked(); err != nil {
		return SignedHead{}, err
	}
	root, err := l.tree.root(l.tree.size, l.read)
	if err != nil {
		return SignedHead{}, fmt.Errorf("integrity: %w", err)
	}
	s := Sign(l.keys.signer, Head{Size: l.tree.size, Root: root, Timestamp: l.opts.Now()})
	if err := l.heads.add(s); err != nil {
		return SignedHead{}, fmt.Errorf("integrity: %w", err)
	}
	return s, nil
}

// signIfGrown signs a head if the tree grew since the last one.
func (l *Log) signIfGrown() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.catchUpLocked(); err != nil {
		return false, err
	}
	if n := len(l.heads.heads); n > 0 && l.heads.heads[n-1].Size == l.tree.size {
		return false, nil
	}
	_, err := l.signLocked()
	return err == nil, err
}

// Heads returns the stored heads whose tree size is in [from, to], in
// order (to 0: no upper bound).
func (l *Log) Heads(from, to uint64) []SignedHead {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []SignedHead
	for _, h := range l.heads.heads {
		if h.Size >= from && (to == 0 || h.Size <= to) {
			out = append(out, h)
		}
	}
	return out
}

// LatestHead returns the last stored head, false if there is none.
func (l *Log) LatestHead() (SignedHead, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.heads.heads); n > 0 {
		return l.heads.heads[n-1], true
	}
	return SignedHead{}, false
}

// ErrNoLeaf says an event has no leaf (not durable yet, or stored before
// the tree was kept).
var ErrNoLeaf = errors.New("integrity: the event has no leaf")

// InclusionProof proves that an event's leaf is in a tree of TreeSize.
type InclusionProof struct {
	Seq       uint64
	LeafIndex uint64
	TreeSize  uint64
	// Salt is the event's salt, needed to recompute its leaf hash.
	Salt   [SaltSize]byte
	Hashes []Hash
}

// Inclusion returns the inclusion proof of the event seq in the tree of
// treeSize leaves (0: the current size).
func (l *Log) Inclusion(seq, treeSize uint64) (InclusionProof, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if treeSize == 0 {
		treeSize = l.tree.size
	}
	idx, ok, err := l.leaves.find(seq)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("integrity: %w", err)
	}
	if !ok {
		return InclusionProof{}, ErrNoLeaf
	}
	if idx >= treeSize {
		return InclusionProof{}, fmt.Errorf("integrity: leaf %d of event %d is not in the tree of size %d", idx, seq, treeSize)
	}
	hs, err := l.tree.inclusion(idx, treeSize, l.read)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("integrity: %w", err)
	}
	return InclusionProof{Seq: seq, LeafIndex: idx, TreeSize: treeSize, Salt: l.salts.Salt(seq), Hashes: hs}, nil
}

// Consistency returns the proof that the tree of size1 is a prefix of the
// tree of size2.
func (l *Log) Consistency(size1, size2 uint64) ([]Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs, err := l.tree.consistency(size1, size2, l.read)
	if err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	return hs, nil
}

// LeafSalt returns the salt of the event seq, for a proof's reader: the
// salt is needed to recompute its leaf hash from the event.
func (l *Log) LeafSalt(seq uint64) [SaltSize]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.salts.Salt(seq)
}

// Close stops the background work, writes what is durable and fsyncs the
// leaf log. It is idempotent.
func (l *Log) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.stop != nil {
			close(l.stop)
			<-l.done
			if l.sealDone != nil {
				<-l.sealDone
			}
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.opts.ReadOnly {
			if err = l.catchUpLocked(); err == nil {
				err = l.leaves.sync()
			}
		}
		err = errors.Join(err, l.leaves.close(), l.heads.close())
	})
	return err
}

// ReadLeaves calls fn with the leaves [from, to) in order, read from the
// leaf log, and the salt of each leaf's event; a leaf of a tile packed
// because it was wholly erased (CompactErased) comes with PackedLeaf for
// its hash. fn must not call l's methods. Reading a long log a slice at a time keeps a verifier's memory
// bounded and lets others use l between slices.
func (l *Log) ReadLeaves(from, to uint64, fn func(idx, seq uint64, h Hash, salt [SaltSize]byte)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.leaves.flush(); err != nil {
		return fmt.Errorf("integrity: %w", err)
	}
	if to > l.leaves.size {
		return fmt.Errorf("integrity: leaves up to %d asked for; the log holds %d", to, l.leaves.size)
	}
	if err := l.leaves.scan(from, to, false, func(idx, seq uint64, h Hash, _ bool) { fn(idx, seq, h, l.salts.Salt(seq)) }); err != nil {
		return fmt.Errorf("integrity: %w", err)
	}
	return nil
}

// LeafIndex returns the leaf index of the event seq; false if it has none.
func (l *Log) LeafIndex(seq uint64) (uint64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.leaves.flush(); err != nil {
		return 0, false, fmt.Errorf("integrity: %w", err)
	}
	return l.leaves.find(seq)
}

// ForEachLeaf calls fn with every leaf in order, read from the leaf log,
// and the salt of its event (PackedLeaf for the hash of a packed tile's
// leaf, as ReadLeaves). fn must not call l's methods.
func (l *Log) ForEachLeaf(fn func(idx, seq uint64, h Hash, salt [SaltSize]byte)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.leaves.flush(); err != nil {
		return err
	}
	s := NewSalter(l.keys.salt)
	return l.leaves.scan(0, l.leaves.size, false, func(idx, seq uint64, h Hash, _ bool) { fn(idx, seq, h, s.Salt(seq)) })
}
