// Package integrity keeps a Merkle tree over a store's durable events, so
// that nobody, the disk's owner included, can remove, alter, reorder or
// insert an event without a verifier noticing.
//
// Leaves follow RFC 6962 (SHA-256, domain-separated leaf and node hashes,
// through github.com/transparency-dev/merkle). Leaf i is the i-th event to
// become durable; its data is seq (8 bytes big-endian) ‖ salt (16) ‖
// SHA-256 of the event's binary form (32), the salt being
// HMAC-SHA256(salt key, seq)[:16]. The leaf log stores (seq, leaf hash,
// CRC32C) entries of 44 bytes in files of 2^16 leaves under leaves/ (a
// tile of 2^8 leaves that deletes and retention erased whole is packed to
// its subtree hash and sequence numbers by CompactErased, when no stored
// head's size falls inside it and one covers it: compact.go; a tile of
// 256 live leaves whose events are all sealed into segments is sealed to
// its subtree hash and sequence numbers in a version 3 file, its leaves
// recomputed from the events through a LeafSource when a proof needs
// them, and written back by Unpack before anything erases one of its
// events: sealed.go; beside a version 1 file, a tile hash file caches its
// complete tiles' subtree hashes, each record bound to its tile's entries,
// so that open does not hash every leaf again: tilehashes.go); tree
// heads (size, root, timestamp) are signed with Ed25519 and appended to
// HEADS. ERASURES records, as roaring bitmaps of sequence numbers, what
// deletes and retention erased on purpose and what a repair or a restore
// lost honestly (written before the loss takes effect, acknowledged later
// by the event recording the fork: ResolveForks), so a verifier tells
// each from a removal. FORMAT.md ("The Merkle tree over the log") gives
// every byte.
//
// The engine (package eventlog) commits each appended batch's digests in
// sequence order (Log.Commit), reports durability (Log.Durable) and fsyncs
// the leaves before sealing lets the WAL drop their records
// (Log.SyncThrough); the log's goroutine turns durable events into leaves.
package integrity
