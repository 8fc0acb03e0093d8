package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// updateEnv regenerates the golden fixture of the current version and the
// FuzzReplay seed corpus when set to 1: WAL_UPDATE_GOLDEN=1 go test ./wal/
// -run 'Golden|Corpus'. Fixtures of older versions are never regenerated.
const updateEnv = "WAL_UPDATE_GOLDEN"

// goldenDir is the fixture of the current version; goldenV1Dir that of
// the released version 1, which holds the same records.
var goldenDir, goldenV1Dir = filepath.Join("testdata", "v2"), filepath.Join("testdata", "v1")

// goldenRecords is the content of the fixtures.
func goldenRecords() []rec {
	return []rec{{1, 1, "first"}, {2, 3, "a batch of three"}, {5, 1, ""}, {6, 2, "\x00\xff binary"}}
}

// writeGolden writes the fixture's log into dir with the current code.
func writeGolden(t testing.TB, dir string) {
	t.Helper()
	w, err := Open(Options{Dir: dir, Sync: SyncNone}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range goldenRecords() {
		if _, err := w.Append(r.count, []byte(r.payload), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestGolden catches any silent change of the bytes written: the code must
// still write exactly the fixture of the current version.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	writeGolden(t, dir)
	for _, name := range []string{fileName(1), reservedName} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(goldenDir, name)
		if os.Getenv(updateEnv) == "1" {
			os.MkdirAll(goldenDir, 0o755)
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (regenerate with %s=1)", err, updateEnv)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from the fixture: WAL bytes changed. If intended, describe the new format in FORMAT.md (\"Write-ahead log\"), bump the version and keep this fixture for the old one.\ngot  %x\nwant %x", name, got, want)
		}
	}
}

// TestOpenFixtures: the fixture of every version still opens.
func TestOpenFixtures(t *testing.T) {
	for _, dir := range []string{goldenV1Dir, goldenDir} {
		w, got := openLog(t, Options{Dir: dir, ReadOnly: true}, 0)
		mustClose(t, w)
		equalRecs(t, got, goldenRecords())
		if w.NextSeq() != 8 {
			t.Fatalf("%s: NextSeq %d, want 8", dir, w.NextSeq())
		}
	}
}

// TestAppendAfterV1: appending to a log whose last file is version 1 starts
// a new file of the current version and leaves the old file as it was, so
// a version 1 reader refuses the new records as too new, never as corrupt.
func TestAppendAfterV1(t *testing.T) {
	dir := t.TempDir()
	old, err := os.ReadFile(filepath.Join(goldenV1Dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileName(1)), old, 0o644); err != nil {
		t.Fatal(err)
	}
	w, _ := openLog(t, Options{Dir: dir, Sync: SyncNone}, 0)
	if _, err := w.Append(1, []byte("after"), nil); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if got, err := os.ReadFile(filepath.Join(dir, fileName(1))); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("the version 1 file changed (%v)", err)
	}
	next, err := os.ReadFile(filepath.Join(dir, fileName(8)))
	if err != nil || len(next) < fileHeaderSize || next[4] != formatVersion {
		t.Fatalf("new file %s: %v, header %x", fileName(8), err, next[:min(len(next), fileHeaderSize)])
	}
	w, got := openLog(t, Options{Dir: dir, ReadOnly: true}, 0)
	mustClose(t, w)
	equalRecs(t, got, append(goldenRecords(), rec{8, 1, "after"}))
}

// fuzzSeeds returns a valid log file and a few damaged variants.
func fuzzSeeds(t testing.TB) [][]byte {
	t.Helper()
	dir := t.TempDir()
	writeGolden(t, dir)
	valid, err := os.ReadFile(filepath.Join(dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	mod := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(valid)) }
	// A record header with a valid header CRC claiming a huge payload.
	huge := binary.LittleEndian.AppendUint32(nil, 0xfffffff0)
	huge = binary.LittleEndian.AppendUint32(huge, 1)
	huge = binary.LittleEndian.AppendUint64(huge, 100)
	huge = binary.LittleEndian.AppendUint32(huge, crc32.Checksum(huge, castagnoli))
	huge = append(huge, 0, 0, 0, 0)
	return [][]byte{
		valid,
		valid[:len(valid)-3],
		valid[:fileHeaderSize],
		valid[:fileHeaderSize+recordHeaderSize-1],
		mod(func(b []byte) []byte { b[fileHeaderSize+30] ^= 0xff; return b }),
		mod(func(b []byte) []byte { return append(b, make([]byte, 64)...) }),
		mod(func(b []byte) []byte { b[4] = 9; return b }),
		append(bytes.Clone(valid[:fileHeaderSize]), huge...),
		{},
	}
}

// TestFuzzCorpus keeps testdata/fuzz/FuzzReplay in step with fuzzSeeds.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReplay")
	for i, seed := range fuzzSeeds(t) {
		path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
		if os.Getenv(updateEnv) == "1" {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Fatalf("%s is stale or missing (%v); regenerate with %s=1", path, err, updateEnv)
		}
	}
}
