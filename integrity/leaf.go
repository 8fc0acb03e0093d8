package integrity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"

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
// stays secret. A Salter is not safe for concurrent use.
type Salter struct {
	mac hash.Hash
	buf [sha256.Size]byte
}

// NewSalter returns a Salter for key.
func NewSalter(key []byte) *Salter { return &Salter{mac: hmac.New(sha256.New, key)} }

// Salt returns the salt of the event with sequence number seq.
func (s *Salter) Salt(seq uint64) [SaltSize]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	s.mac.Reset()
	s.mac.Write(b[:])
	var out [SaltSize]byte
	copy(out[:], s.mac.Sum(s.buf[:0]))
	return out
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
// LeafData(seq, salt, digest)).
func LeafHash(seq uint64, salt [SaltSize]byte, digest Hash) Hash {
	d := LeafData(seq, salt, digest)
	return Hash(hasher.HashLeaf(d[:]))
}

// nodeHash returns the RFC 6962 hash of an inner node: SHA-256(0x01 ||
// left || right).
func nodeHash(left, right Hash) Hash {
	return Hash(hasher.HashChildren(left[:], right[:]))
}
