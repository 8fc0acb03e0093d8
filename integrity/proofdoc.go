package integrity

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/eventlogdb/eventlog/event"
)

// MarshalText encodes a hash as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h[:])), nil }

// UnmarshalText decodes a hash from hex, checking its size.
func (h *Hash) UnmarshalText(b []byte) error {
	n, err := hex.Decode(h[:], b)
	if err != nil || n != HashSize || len(b) != 2*HashSize {
		return fmt.Errorf("hash %.80q: want %d bytes in hex", b, HashSize)
	}
	return nil
}

// ProofDoc is an event with its inclusion proof in JSON, as the HTTP API,
// the CLI and evidence bundles give it: everything a reader needs, with the
// head and the public key, to check the event offline.
type ProofDoc struct {
	ID        string      `json:"id"`
	Seq       uint64      `json:"seq"`
	LeafIndex uint64      `json:"leaf_index"`
	TreeSize  uint64      `json:"tree_size"`
	Salt      string      `json:"salt"`   // hex, 16 bytes
	Hashes    []Hash      `json:"hashes"` // leaf to root
	Head      *SignedHead `json:"head,omitempty"`
	// Event is the event's JSON (event.AppendJSON): decoded with
	// event.Decode, its binary form hashes to the leaf.
	Event json.RawMessage `json:"event"`
}

// NewProofDoc makes the JSON form of an event's proof.
func NewProofDoc(id string, ev *event.Event, p InclusionProof, head *SignedHead) ProofDoc {
	hs := p.Hashes
	if hs == nil {
		hs = []Hash{}
	}
	return ProofDoc{ID: id, Seq: p.Seq, LeafIndex: p.LeafIndex, TreeSize: p.TreeSize,
		Salt: hex.EncodeToString(p.Salt[:]), Hashes: hs, Head: head, Event: event.AppendJSON(nil, ev)}
}

// Verify checks that the document's event is the leaf it names in the
// tree head signs (head's signature is checked by SignedHead.Verify).
func (d ProofDoc) Verify(head Head) error {
	ev, err := event.Decode(d.Event, event.Limits{})
	if err != nil {
		return fmt.Errorf("event %s: %w", d.ID, err)
	}
	var salt [SaltSize]byte
	if n, err := hex.Decode(salt[:], []byte(d.Salt)); err != nil || n != SaltSize || len(d.Salt) != 2*SaltSize {
		return fmt.Errorf("event %s: salt %.40q: want %d bytes in hex", d.ID, d.Salt, SaltSize)
	}
	p := InclusionProof{Seq: d.Seq, LeafIndex: d.LeafIndex, TreeSize: d.TreeSize, Salt: salt, Hashes: d.Hashes}
	if err := VerifyInclusion(p, Digest(event.AppendBinary(nil, &ev)), head); err != nil {
		return fmt.Errorf("event %s: %w", d.ID, err)
	}
	return nil
}
