package segment

import "github.com/klauspost/compress/zstd"

// NewDecoder returns the zstd decoder a Reader uses when OpenOptions gives
// none, and the one a store should share among its Readers: its memory
// bounded by the largest column, with the options extra (e.g. its
// concurrency), and without verifying each frame's own xxhash64 checksum. Every zstd
// frame a Reader decodes was checked first with a CRC-32C over all its
// stored bytes, checksum included: a column against the block index on
// every read (columnInto), the postings section's dictionary and id pages
// when the segment was opened (check), like the uncompressed bitmaps in the
// same section. Hashing the decoded bytes again cost 1.2 % of an export's
// CPU (bench IssueQueries/frequent-object-export).
func NewDecoder(extra ...zstd.DOption) (*zstd.Decoder, error) {
	return zstd.NewReader(nil, append([]zstd.DOption{zstd.WithDecoderMaxMemory(maxColumnRaw + 1<<20), zstd.IgnoreChecksum(true)}, extra...)...)
}
