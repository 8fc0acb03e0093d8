package integrity

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every hash in the tree (SHA-256).
const HashSize = sha256.Size

// Hash is a leaf or node hash, or an event's digest.
type Hash [HashSize]byte

// SaltSize is the size of an event's salt.
const SaltSize = 16

// leafDataSize is the size of a leaf's data: seq, salt, digest.
const leafDataSize = 8 + SaltSize + HashSize

// hasher is RFC 6962's SHA-256 hasher: a leaf hash is SHA-256(0x00 ||
// data), a node hash SHA-256(0x01 || left || right), so no leaf can pass
// for a node.
var hasher = rfc6962.DefaultHasher

// Digest returns SHA-256 of an event's binary form (event.AppendBinary):
// what its leaf commits to. Appends compute it outside the WAL's ordering
// lock, where the event's sequence number is not known yet.
func Digest(binaryForm []byte) Hash { return sha256.Sum256(binaryForm) }

// Salter derives events' salts from the salt key: HMAC-SHA256(key,
// seq as 8 bytes big-endian)[:16]. Deriving rather than storing the salt
// costs no bytes per event; an erased event's leaf resists brute force
// (guessing a small event's content and hashing it) only while the key
// stays secret. A Salter is safe for concurrent use.
//
// It computes HMAC (RFC 2104) itself, without allocating, because ingest
// derives a salt per event and crypto/hmac allocates per call; the tests
// check it against crypto/hmac. The padded key blocks are the same for
// every salt, so NewSalter hashes them once and keeps the two SHA-256
// states they leave: a salt then costs two SHA-256 blocks instead of four.
//
// The second blocks are padded ahead of time (fixedsum.go): the seq or the
// inner sum is written into a block whose padding is already there, and
// the sum read from the hasher's state, when newSalter found that to give
// the same salts.
type Salter struct {
	inner, outer []byte // the states after the ipad and opad blocks (encoding.BinaryMarshaler)
	padded       bool   // the blocks padded ahead of time give the right sums
	scratch      sync.Pool
}

// saltScratch is one salt's hasher and its buffers (a stack array
// handed to the hasher, an interface, would escape to the heap).
type saltScratch struct {
	h     hash.Hash
	seq   [8]byte
	sum   []byte
	state []byte
	// in and out are the second blocks of the inner and outer hashes:
	// seq, then the inner sum, each followed by its padding.
	in, out [sha256.BlockSize]byte
}

// NewSalter returns a Salter for key.
func NewSalter(key []byte) *Salter {
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		key = k[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	s := &Salter{inner: padState(ipad[:]), outer: padState(opad[:])}
	s.scratch.New = func() any {
		sc := &saltScratch{h: sha256.New(), sum: make([]byte, 0, sha256.Size)}
		padSHA256(sc.in[:], 8, sha256.BlockSize+8)
		padSHA256(sc.out[:], sha256.Size, sha256.BlockSize+sha256.Size)
		return sc
	}
	s.padded = true
	if s.Salt(1) != s.slowSalt(1) {
		s.padded = false
	}
	return s
}

// padState returns the marshalled SHA-256 state after hashing pad.
func padState(pad []byte) []byte {
	h := sha256.New()
	h.Write(pad)
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("integrity: SHA-256 state cannot be saved: " + err.Error()) // the standard library's hasher always can
	}
	return state
}

// Salt returns the salt of the event with sequence number seq.
func (s *Salter) Salt(seq uint64) [SaltSize]byte {
	if !s.padded {
		return s.slowSalt(seq)
	}
	sc := s.scratch.Get().(*saltScratch)
	defer s.scratch.Put(sc)
	binary.BigEndian.PutUint64(sc.in[:], seq)
	var inner, mac Hash
	sc.state = sc.resumePadded(s.inner, sc.in[:], &inner)
	copy(sc.out[:], inner[:])
	sc.state = sc.resumePadded(s.outer, sc.out[:], &mac)
	return [SaltSize]byte(mac[:SaltSize])
}

// resumePadded hashes block, a last block padded ahead of time, after the
// saved state, and reads the sum into d.
func (sc *saltScratch) resumePadded(state, block []byte, d *Hash) []byte {
	if err := sc.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic("integrity: SHA-256 state cannot be restored: " + err.Error()) // it was made by MarshalBinary
	}
	sc.h.Write(block)
	return stateSum(sc.h, sc.state, d)
}

// slowSalt is Salt through the hasher's own padding and Sum.
func (s *Salter) slowSalt(seq uint64) [SaltSize]byte {
	sc := s.scratch.Get().(*saltScratch)
	defer s.scratch.Put(sc)
	binary.BigEndian.PutUint64(sc.seq[:], seq)
	inner := sc.resume(s.inner, sc.seq[:])
	mac := sc.resume(s.outer, inner)
	return [SaltSize]byte(mac[:SaltSize])
}

// resume hashes data after the saved state and returns the sum, in
// sc.sum: valid until the next resume.
func (sc *saltScratch) resume(state, data []byte) []byte {
	if err := sc.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic("integrity: SHA-256 state cannot be restored: " + err.Error()) // it was made by MarshalBinary
	}
	sc.h.Write(data)
	sc.sum = sc.h.Sum(sc.sum[:0])
	return sc.sum
}

// LeafData returns a leaf's data: seq (8 bytes big-endian), salt (16) and
// the event's digest (32). The sequence number is inside, so a leaf cannot
// be moved to another event's place.
func LeafData(seq uint64, salt [SaltSize]byte, digest Hash) [leafDataSize]byte {
	var d [leafDataSize]byte
	binary.BigEndian.PutUint64(d[:8], seq)
	copy(d[8:], salt[:])
	copy(d[8+SaltSize:], digest[:])
	return d
}

// LeafHash returns the RFC 6962 leaf hash of an event: SHA-256(0x00 ||
// LeafData(seq, salt, digest)). It hashes a stack buffer rather than call
// the library's hasher, which allocates (ingest hashes every event); the
// tests check the two agree.
func LeafHash(seq uint64, salt [SaltSize]byte, digest Hash) Hash {
	var b [1 + leafDataSize]byte
	b[0] = 0x00 // RFC 6962 leaf prefix
	d := LeafData(seq, salt, digest)
	copy(b[1:], d[:])
	return sha256.Sum256(b[:])
}

// nodeHash returns the RFC 6962 hash of an inner node: SHA-256(0x01 ||
// left || right), as LeafHash without allocating.
func nodeHash(left, right Hash) Hash {
	var b [1 + 2*HashSize]byte
	b[0] = 0x01 // RFC 6962 node prefix
	copy(b[1:], left[:])
	copy(b[1+HashSize:], right[:])
	return sha256.Sum256(b[:])
}
