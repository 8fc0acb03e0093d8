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
	_, err := checkFileHeaderUpTo(b, magic, version, version)
	return err
}

// checkFileHeaderUpTo is checkFileHeader for a file whose versions oldest
// to newest this build reads, returning the file's version.
func checkFileHeaderUpTo(b []byte, magic string, oldest, newest uint32) (uint32, error) {
	switch {
	case len(b) < fileHeaderSize:
		return 0, fmt.Errorf("%w: header of %d bytes is short", ErrCorrupt, len(b))
	case string(b[:8]) != magic:
		return 0, fmt.Errorf("%w: bad magic %q", ErrCorrupt, b[:8])
	case binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli):
		return 0, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	v := binary.LittleEndian.Uint32(b[8:])
	if v < oldest || v > newest {
		if oldest == newest {
			return v, fmt.Errorf("unsupported version %d (this build reads %d)", v, newest)
		}
		return v, fmt.Errorf("unsupported version %d (this build reads %d to %d)", v, oldest, newest)
	}
	return v, nil
}

var errShortHeader = errors.New("short header")
