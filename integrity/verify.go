package integrity

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
)

// VerifyInclusion checks that the event whose binary form has digest is
// the leaf p.LeafIndex of the tree that head signs: the leaf hash is
// recomputed from p.Seq, p.Salt and digest. head's signature is not
// checked here (see SignedHead.Verify).
func VerifyInclusion(p InclusionProof, digest Hash, head Head) error {
	if p.TreeSize != head.Size {
		return fmt.Errorf("proof is for tree size %d, head for %d", p.TreeSize, head.Size)
	}
	leaf := LeafHash(p.Seq, p.Salt, digest)
	if err := proof.VerifyInclusion(hasher, p.LeafIndex, p.TreeSize, leaf[:], hashBytes(p.Hashes), head.Root[:]); err != nil {
		return fmt.Errorf("event %d (leaf %d) in tree of size %d: %w", p.Seq, p.LeafIndex, p.TreeSize, readable(err))
	}
	return nil
}

// VerifyConsistency checks that the tree of h1 is a prefix of the tree of
// h2, by the consistency proof hs.
func VerifyConsistency(h1, h2 Head, hs []Hash) error {
	if err := proof.VerifyConsistency(hasher, h1.Size, h2.Size, hashBytes(hs), h1.Root[:], h2.Root[:]); err != nil {
		return fmt.Errorf("tree size %d is not a prefix of tree size %d: %w", h1.Size, h2.Size, readable(err))
	}
	return nil
}

// ErrRootMismatch says a proof leads to another root than the head's:
// the event, the proof or the head was changed.
var ErrRootMismatch = errors.New("the proof does not lead to the head's root")

// readable replaces the library's root mismatch (whose message prints
// the hashes as decimal byte lists) by ErrRootMismatch with hex hashes.
func readable(err error) error {
	var rm proof.RootMismatchError
	if errors.As(err, &rm) {
		return fmt.Errorf("%w: it leads to %x, the head signs %x", ErrRootMismatch, rm.CalculatedRoot, rm.ExpectedRoot)
	}
	return err
}

func hashBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}
