package integrity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// fileHeaderSize is the size of every integrity file's header: magic (8
// bytes), version (u32 LE), CRC32C of the first 12 bytes (u32 LE).
const fileHeaderSize = 16

// appendFileHeader appends a file header.
func appendFileHeader(dst []byte, magic string, version uint32) []byte {
	start := len(dst)
	dst = append(dst, magic...)
	dst = binary.LittleEndian.AppendUint32(dst, version)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// checkFileHeader checks a file header: magic and CRC (else ErrCorrupt),
// then the version (a newer one is refused, not called corrupt).
func checkFileHeader(b []byte, magic string, version uint32) error {
	switch {
	case len(b) < fileHeaderSize:
		return fmt.Errorf("%w: header of %d bytes is short", ErrCorrupt, len(b))
	case string(b[:8]) != magic:
		return fmt.Errorf("%w: bad magic %q", ErrCorrupt, b[:8])
	case binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli):
		return fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	case binary.LittleEndian.Uint32(b[8:]) != version:
		return fmt.Errorf("unsupported version %d (this build reads %d)", binary.LittleEndian.Uint32(b[8:]), version)
	}
	return nil
}

var errShortHeader = errors.New("short header")
