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

// goldenDir holds the fixture of the current version; v1Dir the released
// version 1's, which differs only in the version byte of the log file.
var goldenDir, v1Dir = filepath.Join("testdata", "v2"), filepath.Join("testdata", "v1")

// goldenRecords is the content of the fixtures (every version).
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
// still write exactly the current version's fixture.
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
			t.Fatalf("%s differs from the v%d fixture: WAL bytes changed. If intended, describe the new format in FORMAT.md (\"Write-ahead log\"), bump the version and keep this fixture for v%d.\ngot  %x\nwant %x", name, formatVersion, formatVersion, got, want)
		}
	}
}

// TestOpenFixtures: the fixture of every released version still opens.
func TestOpenFixtures(t *testing.T) {
	for _, dir := range []string{v1Dir, goldenDir} {
		w, got := openLog(t, Options{Dir: dir, ReadOnly: true}, 0)
		mustClose(t, w)
		equalRecs(t, got, goldenRecords())
		if w.NextSeq() != 8 {
			t.Fatalf("%s: NextSeq %d, want 8", dir, w.NextSeq())
		}
	}
}

// TestV2DiffersFromV1OnlyInVersion: version 2 changed no framing byte, only
// what the payloads may hold.
func TestV2DiffersFromV1OnlyInVersion(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join(v1Dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(filepath.Join(goldenDir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if v1[4] != 1 || v2[4] != 2 {
		t.Fatalf("version bytes %d and %d", v1[4], v2[4])
	}
	v1[4] = 2
	if !bytes.Equal(v1, v2) {
		t.Fatal("the v1 and v2 fixtures differ beyond the version byte")
	}
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
