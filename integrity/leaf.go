package integrity

import (
	"crypto/sha256"
	"encoding/binary"

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
// It computes HMAC (RFC 2104) itself, on stack buffers, because ingest
// derives a salt per event and crypto/hmac allocates per call; the tests
// check it against crypto/hmac.
type Salter struct {
	ipad, opad [sha256.BlockSize]byte
}

// NewSalter returns a Salter for key.
func NewSalter(key []byte) *Salter {
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		key = k[:]
	}
	s := &Salter{}
	copy(s.ipad[:], key)
	copy(s.opad[:], key)
	for i := range s.ipad {
		s.ipad[i] ^= 0x36
		s.opad[i] ^= 0x5c
	}
	return s
}

// Salt returns the salt of the event with sequence number seq.
func (s *Salter) Salt(seq uint64) [SaltSize]byte {
	var in [sha256.BlockSize + 8]byte
	copy(in[:], s.ipad[:])
	binary.BigEndian.PutUint64(in[sha256.BlockSize:], seq)
	inner := sha256.Sum256(in[:])
	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], s.opad[:])
	copy(out[sha256.BlockSize:], inner[:])
	mac := sha256.Sum256(out[:])
	return [SaltSize]byte(mac[:SaltSize])
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
