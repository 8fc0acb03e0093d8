package segment

import "encoding/binary"

// A column's stored bytes carry a CRC-32C in the block index, and a zstd
// column's frame usually carries its own check too: the low 32 bits of the
// XXH64 of the decoded bytes, which the decoder verifies as it decodes
// (klauspost/compress checks it unless made WithIgnoreChecksum, which no
// decoder of this module is). Reading a compressed column then computes
// both over the same data. On 2,000,000 realistic events the CRC of the
// stored bytes was 16% of the CPU of reading 991 scattered events as
// whole documents and 11% of reading 124,664 (bench IssueQueries, pprof),
// spent on top of a decode that would catch the damage anyway. So a read
// checks the CRC only of the columns whose damage the decoder would not
// catch: raw columns and frames without a content checksum. Verify and
// Salvage still check every block's CRC-32C over all its bytes.
//
// Damage to a checksummed frame fails the read all the same: the decoder
// refuses a malformed frame, a changed length is refused against the
// index's raw length, and changed content fails the checksum. Damage that
// decodes to the very same bytes (an unused bit of a header) gives a
// correct answer and is left for Verify to report.

// zstdMagic is the little-endian magic number of a zstd frame.
const zstdMagic = 0xFD2FB528

// frameChecksummed reports whether stored begins with a zstd frame whose
// header descriptor (the byte after the magic) sets the Content_Checksum
// flag (bit 2, RFC 8878 section 3.1.1.1.1).
func frameChecksummed(stored []byte) bool {
	return len(stored) > 4 && binary.LittleEndian.Uint32(stored) == zstdMagic && stored[4]&0x04 != 0
}
