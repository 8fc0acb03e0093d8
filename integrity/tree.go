package integrity

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// tileHeight is the level from which the tree keeps subtree hashes in
// memory: every complete subtree of 2^tileHeight leaves and above (about
// a quarter of a byte per leaf). Hashes below it are recomputed from at
// most 2^tileHeight leaf hashes read from the leaf log.
const tileHeight = 8

// tree is the Merkle tree's in-memory part: the hashes of its complete
// subtrees at tileHeight and above, and the leaves of its last,
// incomplete 2^tileHeight block.
type tree struct {
	size   uint64
	levels [][]Hash // levels[k]: complete subtrees of level tileHeight+k, left to right
	tail   []Hash   // leaf hashes from size - size%2^tileHeight on
	// sums hashes the nodes that add and addTile make (fixedsum.go);
	// nil: nodeHash.
	sums *fixedSums
}

// add appends a leaf hash.
func (t *tree) add(h Hash) {
	t.tail = append(t.tail, h)
	t.size++
	if len(t.tail) == 1<<tileHeight {
		t.push(0, t.reduceTail())
		t.tail = t.tail[:0]
	}
}

// addTile appends the subtree hash of a packed tile of tileLeaves leaves:
// the tree's size must be a multiple of tileLeaves.
func (t *tree) addTile(h Hash) {
	t.size += tileLeaves
	t.push(0, h)
}

// tileHash returns the hash of complete tile number i.
func (t *tree) tileHash(i uint64) Hash {
	if len(t.levels) == 0 || i >= uint64(len(t.levels[0])) {
		return Hash{}
	}
	return t.levels[0][i]
}

// push records a complete subtree at level tileHeight+k and the parents it
// completes.
func (t *tree) push(k int, h Hash) {
	if k == len(t.levels) {
		t.levels = append(t.levels, nil)
	}
	t.levels[k] = append(t.levels[k], h)
	if n := len(t.levels[k]); n%2 == 0 {
		t.push(k+1, t.nodeHash(t.levels[k][n-2], t.levels[k][n-1]))
	}
}

// nodeHash is nodeHash, through t.sums when set.
func (t *tree) nodeHash(left, right Hash) Hash {
	if t.sums == nil {
		return nodeHash(left, right)
	}
	return t.sums.nodeHash(left, right)
}

// reduceTail returns the root over the complete tail, overwriting it (it
// is emptied next: no copy).
func (t *tree) reduceTail() Hash {
	hs := t.tail
	for n := len(hs); n > 1; n /= 2 {
		for i := 0; i < n/2; i++ {
			hs[i] = t.nodeHash(hs[2*i], hs[2*i+1])
		}
	}
	return hs[0]
}

// reduce returns the root of a perfect tree over leaves (a power of two of
// them); leaves is left as it is.
func reduce(leaves []Hash) Hash {
	hs := leaves
	if len(hs) > 1 {
		hs = append([]Hash(nil), leaves...)
	}
	for n := len(hs); n > 1; n /= 2 {
		for i := 0; i < n/2; i++ {
			hs[i] = nodeHash(hs[2*i], hs[2*i+1])
		}
	}
	return hs[0]
}

// readFunc reads leaf hashes [from, to) from the leaf log.
type readFunc func(from, to uint64) ([]Hash, error)

// node returns the hash of the complete subtree (level, index).
func (t *tree) node(id compact.NodeID, read readFunc) (Hash, error) {
	begin, end := id.Coverage()
	if end > t.size {
		return Hash{}, fmt.Errorf("node at level %d index %d is past the tree of size %d", id.Level, id.Index, t.size)
	}
	if id.Level >= tileHeight {
		return t.levels[id.Level-tileHeight][id.Index], nil
	}
	tailStart := t.size - uint64(len(t.tail))
	if begin >= tailStart {
		return reduce(t.tail[begin-tailStart : end-tailStart]), nil
	}
	leaves, err := read(begin, end)
	if err != nil {
		return Hash{}, err
	}
	return reduce(leaves), nil
}

// nodes returns the hashes of ids.
func (t *tree) nodes(ids []compact.NodeID, read readFunc) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := t.node(id, read)
		if err != nil {
			return nil, err
		}
		out[i] = h[:]
	}
	return out, nil
}

// root returns the root hash of the tree's first size leaves.
func (t *tree) root(size uint64, read readFunc) (Hash, error) {
	if size > t.size {
		return Hash{}, fmt.Errorf("tree size %d is past the log's %d leaves", size, t.size)
	}
	if size == 0 {
		return Hash(hasher.EmptyRoot()), nil
	}
	hs, err := t.nodes(compact.RangeNodes(0, size, nil), read)
	if err != nil {
		return Hash{}, err
	}
	return foldRight(hs), nil
}

// foldRight combines the hashes of a range's nodes, left to right by
// decreasing size, into the root over them (RFC 6962's MTH).
func foldRight(hs [][]byte) Hash {
	h := Hash(hs[len(hs)-1])
	for i := len(hs) - 2; i >= 0; i-- {
		h = nodeHash(Hash(hs[i]), h)
	}
	return h
}

// inclusion returns the inclusion proof of leaf index in the tree of size.
func (t *tree) inclusion(index, size uint64, read readFunc) ([]Hash, error) {
	if size > t.size {
		return nil, fmt.Errorf("tree size %d is past the log's %d leaves", size, t.size)
	}
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.rehash(n, read)
}

// consistency returns the consistency proof between tree sizes size1 and
// size2.
func (t *tree) consistency(size1, size2 uint64, read readFunc) ([]Hash, error) {
	if size2 > t.size {
		return nil, fmt.Errorf("tree size %d is past the log's %d leaves", size2, t.size)
	}
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.rehash(n, read)
}

func (t *tree) rehash(n proof.Nodes, read readFunc) ([]Hash, error) {
	hs, err := t.nodes(n.IDs, read)
	if err != nil {
		return nil, err
	}
	hs, err = n.Rehash(hs, hasher.HashChildren)
	if err != nil {
		return nil, err
	}
	out := make([]Hash, len(hs))
	for i, h := range hs {
		out[i] = Hash(h)
	}
	return out, nil
}
