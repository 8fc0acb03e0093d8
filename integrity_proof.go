package eventlog

import (
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/integrity"
)

// ErrNoEvent says an event is not stored (never was, deleted, expired)
// or has no leaf yet.
var ErrNoEvent = errors.New("eventlog: no such event")

// EventProof is a stored event with the proof that it is the leaf
// Proof.LeafIndex of the tree Head signs: a reader recomputes the leaf
// from the event (EventDigest), Proof.Seq and Proof.Salt.
type EventProof struct {
	ID    string
	Event Event
	Proof integrity.InclusionProof
	// Head is the signed head of the proof's tree size; nil if no stored
	// head has that size (a proof for a size asked for).
	Head *integrity.SignedHead
}

// ProveEvent returns the event id with its inclusion proof in the tree of
// treeSize leaves; with treeSize 0, against the latest signed head (a new
// one is signed if none covers the event). An event not stored, or not
// yet a leaf, is ErrNoEvent.
func (db *DB) ProveEvent(id string, treeSize uint64) (EventProof, error) {
	if db.integrity == nil {
		return EventProof{}, ErrNoIntegrity
	}
	seq, err := SeqOfID(id)
	if err != nil {
		return EventProof{}, fmt.Errorf("%w: %w", ErrNoEvent, err)
	}
	recs, err := db.readSeqRange(seq, seq, nil, false, new(tailCursors))
	if err != nil {
		return EventProof{}, err
	}
	if len(recs) == 0 {
		return EventProof{}, fmt.Errorf("%w: %s", ErrNoEvent, id)
	}
	head, err := db.headFor(seq, treeSize)
	if err != nil {
		return EventProof{}, err
	}
	size := treeSize
	if head != nil {
		size = head.Size
	}
	p, err := db.integrity.Inclusion(seq, size)
	if errors.Is(err, integrity.ErrNoLeaf) {
		return EventProof{}, fmt.Errorf("%w: %s has no leaf yet", ErrNoEvent, id)
	}
	if err != nil {
		return EventProof{}, err
	}
	return EventProof{ID: id, Event: *recs[0].ev, Proof: p, Head: head}, nil
}

// headFor returns the stored head of treeSize, or with treeSize 0 the
// latest head, signing one if none covers seq's leaf.
func (db *DB) headFor(seq, treeSize uint64) (*integrity.SignedHead, error) {
	if treeSize != 0 {
		hs := db.integrity.Heads(treeSize, treeSize)
		if len(hs) == 0 {
			return nil, nil
		}
		return &hs[len(hs)-1], nil
	}
	if h, ok := db.integrity.LatestHead(); ok {
		if _, err := db.integrity.Inclusion(seq, h.Size); err == nil {
			return &h, nil
		}
	}
	if db.opts.ReadOnly {
		return nil, fmt.Errorf("%w: no signed head covers it, and a read-only store signs none", ErrNoEvent)
	}
	h, err := db.SignHead()
	if err != nil {
		return nil, err
	}
	return &h, nil
}
