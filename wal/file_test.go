package wal

import (
	"errors"
	"strings"
	"testing"
)

// wholeFile is a log file of three records, seqs 5..6, 7 and 9..11.
func wholeFile() []byte {
	b := AppendFileHeader(nil, 5)
	b = appendRecord(b, 5, 2, []byte("first"))
	b = appendRecord(b, 7, 1, []byte("second"))
	return appendRecord(b, 9, 3, []byte("third record"))
}

// TestCheckFile: a whole file checks with its extent; every kind of damage
// — torn tails included, which Open would truncate in a last file — is a
// CorruptionError naming the file and the offset of the bad record.
func TestCheckFile(t *testing.T) {
	good := wholeFile()
	info, err := CheckFile("c", good)
	if err != nil || info != (FileInfo{FirstSeq: 5, LastSeq: 11, Records: 3}) {
		t.Fatalf("CheckFile(good) = %+v, %v", info, err)
	}
	second := int64(fileHeaderSize + recordHeaderSize + len("first"))
	third := second + recordHeaderSize + int64(len("second"))
	cases := map[string]struct {
		damage func([]byte) []byte
		off    int64
		reason string
	}{
		"truncated in the last payload": {func(b []byte) []byte { return b[:len(b)-1] }, third, "reaches past the end"},
		"truncated in a record header":  {func(b []byte) []byte { return b[:third+10] }, third, "short record header"},
		"payload bit flip":              {func(b []byte) []byte { b[second+recordHeaderSize] ^= 1; return b }, second, "record checksum mismatch"},
		"header bit flip":               {func(b []byte) []byte { b[second+2] ^= 1; return b }, second, "header checksum mismatch"},
		"no record":                     {func(b []byte) []byte { return b[:fileHeaderSize] }, fileHeaderSize, "no record"},
		"short header":                  {func(b []byte) []byte { return b[:10] }, 0, "short file header"},
		"zeroed tail":                   {func(b []byte) []byte { clear(b[third:]); return b }, third, "header checksum mismatch"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := CheckFile("chunk-7", c.damage(wholeFile()))
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.File != "chunk-7" || ce.Offset != c.off || !strings.Contains(ce.Reason, c.reason) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("CheckFile: %v; want corruption of chunk-7 at %d: %s", err, c.off, c.reason)
			}
		})
	}
	newer := wholeFile()
	newer[4] = formatVersion + 1
	if _, err := CheckFile("c", newer); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("CheckFile(newer version): %v, want ErrUnsupportedVersion", err)
	}
}

// TestRecordFirstSeq reads a framed record's sequence numbers and refuses
// a damaged or cut one.
func TestRecordFirstSeq(t *testing.T) {
	rec := appendRecord(nil, 42, 3, []byte("payload"))
	if first, n, err := RecordFirstSeq(rec); first != 42 || n != 3 || err != nil {
		t.Fatalf("RecordFirstSeq = %d, %d, %v", first, n, err)
	}
	if _, _, err := RecordFirstSeq(rec[:len(rec)-1]); err == nil {
		t.Fatal("a cut record was accepted")
	}
	rec[9] ^= 1
	if _, _, err := RecordFirstSeq(rec); err == nil {
		t.Fatal("a record with a damaged header was accepted")
	}
}
