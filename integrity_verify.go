package eventlog

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"slices"

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

// ErasedLeaf is an erased position and what erased it.
type ErasedLeaf struct {
	Leaf uint64 `json:"leaf"`
	Seq  uint64 `json:"seq"`
	// By is "delete" or "retention"; Eraser the sequence number of the
	// event that records it, 0 for expired events compaction left out
	// (no event records a merge).
	By     string `json:"by"`
	Eraser uint64 `json:"eraser"`
}

func (e ErasedLeaf) String() string {
	if e.Eraser == 0 {
		return fmt.Sprintf("erased: leaf %d, event %s (seq %d), by %s: expired, left out when compaction merged its segment", e.Leaf, IDOf(e.Seq), e.Seq, e.By)
	}
	return fmt.Sprintf("erased: leaf %d, event %s (seq %d), by the %s recorded as event %s", e.Leaf, IDOf(e.Seq), e.Seq, e.By, IDOf(e.Eraser))
}

// ChainReport is what VerifyChain found.
type ChainReport struct {
	Leaves uint64 `json:"leaves"`
	Heads  int    `json:"heads"`
	// Erased lists the positions whose events a recorded delete (or
	// retention run) erased: their leaves stay, their content is gone.
	Erased []ErasedLeaf `json:"erased"`
	// Unleaved counts stored events after the last leaf: durable in the
	// WAL, their leaves not written yet (the next open writes them).
	Unleaved int            `json:"unleaved"`
	Problems []ChainProblem `json:"problems"`
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
	opts.ReadOnly, opts.Integrity = true, true
	db, err := Open(dir, opts)
	if err != nil {
		return ChainReport{}, err
	}
	defer db.Close()
	return db.verifyChain(pub, extra)
}

func (db *DB) verifyChain(pub ed25519.PublicKey, extra []integrity.SignedHead) (ChainReport, error) {
	l := db.integrity
	if pub == nil {
		pub = l.PublicKey()
	}
	stored, err := db.storedDigests()
	if err != nil {
		return ChainReport{}, err
	}
	erasures, err := l.Erasures()
	if err != nil {
		return ChainReport{}, err
	}
	var r ChainReport
	var firstSeq, lastSeq uint64
	err = l.ForEachLeaf(func(idx, seq uint64, h integrity.Hash, salt [integrity.SaltSize]byte) {
		if r.Leaves == 0 {
			firstSeq = seq
		}
		r.Leaves++
		lastSeq = seq
		d, ok := stored[seq]
		if !ok {
			if e := erasedBy(erasures, seq); e != nil {
				r.Erased = append(r.Erased, ErasedLeaf{Leaf: idx, Seq: seq, By: e.Kind.String(), Eraser: e.Eraser})
				return
			}
			r.Problems = append(r.Problems, ChainProblem{Kind: "missing", Leaf: idx, Seq: seq, Detail: "the event of this leaf is not stored"})
			return
		}
		delete(stored, seq)
		if integrity.LeafHash(seq, salt, d) != h {
			r.Problems = append(r.Problems, ChainProblem{Kind: "altered", Leaf: idx, Seq: seq, Detail: "the stored event does not hash to its leaf"})
		}
	})
	if err != nil {
		return r, fmt.Errorf("eventlog: verify chain: %w", err)
	}
	// Sealing fsyncs the leaves of a head's events before the manifest
	// names its segments: a sealed event after the first leaf without one
	// was slipped in. Events before the first leaf predate the tree; WAL
	// events after the last await theirs.
	sealed := db.manifest.SealedSeq
	for seq := range stored {
		switch {
		case r.Leaves > 0 && seq < firstSeq:
		case seq <= lastSeq:
			r.Problems = append(r.Problems, ChainProblem{Kind: "inserted", Seq: seq, Detail: "a stored event without a leaf, between leaves"})
		case seq <= sealed && r.Leaves > 0:
			r.Problems = append(r.Problems, ChainProblem{Kind: "inserted", Seq: seq, Detail: "a sealed event without a leaf, after the last leaf"})
		default:
			r.Unleaved++
		}
	}
	slices.SortFunc(r.Problems, func(a, b ChainProblem) int { return cmp.Compare(a.Seq, b.Seq) })
	r.Problems = append(r.Problems, checkHeads(l, pub, extra, &r)...)
	return r, nil
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

// checkHeads checks every stored head against the leaf log's tree.
func checkHeads(l *integrity.Log, pub ed25519.PublicKey, extra []integrity.SignedHead, r *ChainReport) []ChainProblem {
	var out []ChainProblem
	stored := l.Heads(0, 0)
	heads := append(stored, extra...)
	r.Heads = len(heads)
	size := l.Size()
	for i, h := range heads {
		if err := h.Verify(pub); err != nil {
			out = append(out, ChainProblem{Kind: "head-signature", Head: i, Detail: err.Error()})
		}
		if i > 0 && i < len(stored) {
			prev := heads[i-1]
			if h.Size < prev.Size || (h.Size == prev.Size && h.Root != prev.Root) || h.Timestamp.Before(prev.Timestamp) {
				out = append(out, ChainProblem{Kind: "head-order", Head: i, Detail: fmt.Sprintf("size %d at %s does not extend head %d (size %d at %s)", h.Size, h.Timestamp, i-1, prev.Size, prev.Timestamp)})
			}
		}
		if h.Size > size {
			out = append(out, ChainProblem{Kind: "head-size", Head: i, Detail: fmt.Sprintf("signs %d leaves; the leaf log holds %d", h.Size, size)})
			continue
		}
		root, err := l.Root(h.Size)
		if err != nil {
			out = append(out, ChainProblem{Kind: "head-root", Head: i, Detail: err.Error()})
		} else if root != h.Root {
			out = append(out, ChainProblem{Kind: "head-root", Head: i, Detail: fmt.Sprintf("root of the first %d leaves is %x, the head signs %x", h.Size, root, h.Root)})
		}
	}
	return out
}

// storedDigests returns the digest of every stored event's binary form
// (deleted and expired ones excluded: they read as missing).
func (db *DB) storedDigests() (map[uint64]integrity.Hash, error) {
	out := map[uint64]integrity.Hash{}
	top := db.published.Load()
	var cursors tailCursors
	var buf []byte
	for lo := uint64(1); lo <= top; lo += tailWindow {
		hi := min(top, lo+tailWindow-1)
		recs, err := db.readSeqRange(lo, hi, nil, true, &cursors)
		if err != nil {
			return nil, fmt.Errorf("eventlog: verify chain: read events %d..%d: %w", lo, hi, err)
		}
		for _, rec := range recs {
			buf = event.AppendBinary(buf[:0], rec.ev)
			out[rec.seq] = integrity.Digest(buf)
		}
	}
	return out, nil
}
