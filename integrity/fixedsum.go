package integrity

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// fixedSums hashes the fixed-size messages of the tree (leaf data, node
// children) with SHA-256 padding written once, ahead of time, into their
// buffers: a message then costs its blocks and a read of the state, not
// sha256.Sum256's copy of the hasher and padding per call, about 20 ns
// of the 120 a leaf or node hash took (ingest hashes a leaf and about a
// node per event). The digest is read from the hasher's saved state
// (encoding.BinaryAppender: a 4-byte magic, then the eight state words
// big-endian, which after whole padded blocks are the digest); newFixedSums
// checks that against sha256.Sum256 and, should the state's layout ever
// differ, falls back to Sum256. Not safe for concurrent use.
type fixedSums struct {
	h     hash.Hash
	ok    bool // the state read gives the digest
	state []byte
	leaf  [128]byte // 0x00 ‖ leaf data (57 bytes), then padding
	node  [128]byte // 0x01 ‖ left ‖ right (65 bytes), then padding
}

// shaMagicLen is the length of the magic before the state words in
// SHA-256's saved state.
const shaMagicLen = 4

// padSHA256 writes SHA-256's padding after the last n bytes of a message
// of total bytes, at the start of b, whose length must take the message's
// end to the next block boundary past its 9 bytes of padding.
func padSHA256(b []byte, n, total int) {
	b[n] = 0x80
	clear(b[n+1 : len(b)-8])
	binary.BigEndian.PutUint64(b[len(b)-8:], uint64(total)*8)
}

func newFixedSums() *fixedSums {
	f := &fixedSums{h: sha256.New()}
	f.leaf[0] = 0x00 // RFC 6962 leaf prefix
	padSHA256(f.leaf[:], 1+leafDataSize, 1+leafDataSize)
	f.node[0] = 0x01 // RFC 6962 node prefix
	padSHA256(f.node[:], 1+2*HashSize, 1+2*HashSize)
	f.ok = true
	if got := f.sum(f.node[:], 1+2*HashSize); got != sha256.Sum256(f.node[:1+2*HashSize]) {
		f.ok = false
	}
	return f
}

// sum returns SHA-256 of the message of n bytes at the start of padded,
// which holds its padding after it.
func (f *fixedSums) sum(padded []byte, n int) Hash {
	if !f.ok {
		return sha256.Sum256(padded[:n])
	}
	f.h.Reset()
	f.h.Write(padded)
	var h Hash
	f.state = stateSum(f.h, f.state, &h)
	return h
}

// stateSum reads the digest of h, after whole padded blocks, from its
// saved state into d, using buf for the state.
func stateSum(h hash.Hash, buf []byte, d *Hash) []byte {
	buf, err := h.(encoding.BinaryAppender).AppendBinary(buf[:0])
	if err != nil {
		panic("integrity: SHA-256 state cannot be saved: " + err.Error()) // the standard library's hasher always can
	}
	*d = Hash(buf[shaMagicLen : shaMagicLen+HashSize])
	return buf
}

// leafHash is LeafHash.
func (f *fixedSums) leafHash(seq uint64, salt [SaltSize]byte, digest Hash) Hash {
	binary.BigEndian.PutUint64(f.leaf[1:], seq)
	copy(f.leaf[1+8:], salt[:])
	copy(f.leaf[1+8+SaltSize:], digest[:])
	return f.sum(f.leaf[:], 1+leafDataSize)
}

// nodeHash is nodeHash.
func (f *fixedSums) nodeHash(left, right Hash) Hash {
	copy(f.node[1:], left[:])
	copy(f.node[1+HashSize:], right[:])
	return f.sum(f.node[:], 1+2*HashSize)
}
