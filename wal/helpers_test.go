package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rec is a replayed or appended record with its payload copied.
type rec struct {
	seq     uint64
	count   uint32
	payload string
}

// payloadFor is the deterministic payload of the i-th test record.
func payloadFor(i int) []byte {
	return fmt.Appendf(nil, "record-%04d-%s", i, bytes.Repeat([]byte{byte('a' + i%26)}, i%37))
}

// openLog opens a WAL, collecting what it replays.
func openLog(t *testing.T, opts Options, after uint64) (*WAL, []rec) {
	t.Helper()
	w, got, err := tryOpen(opts, after)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w, got
}

func tryOpen(opts Options, after uint64) (*WAL, []rec, error) {
	var got []rec
	w, err := Open(opts, after, func(r Record) error {
		got = append(got, rec{r.FirstSeq, r.Count, string(r.Payload)})
		return nil
	})
	return w, got, err
}

// reopen closes w (if not nil) and replays the log from scratch.
func replayAll(t *testing.T, opts Options) []rec {
	t.Helper()
	w, got := openLog(t, opts, 0)
	mustClose(t, w)
	return got
}

// appendN appends n records numbered from i0, with counts 1..3, and returns
// them as they should replay.
func appendN(t *testing.T, w *WAL, i0, n int) []rec {
	t.Helper()
	var out []rec
	for i := i0; i < i0+n; i++ {
		count := uint32(i%3 + 1)
		p := payloadFor(i)
		var committed uint64
		seq, err := w.Append(count, p, func(s uint64) { committed = s })
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if committed != seq {
			t.Fatalf("commit got %d, Append returned %d", committed, seq)
		}
		out = append(out, rec{seq, count, string(p)})
	}
	return out
}

func mustClose(t *testing.T, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// equalRecs fails unless got and want are the same records in order.
func equalRecs(t *testing.T, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d\ngot  %v\nwant %v", len(got), len(want), seqsOf(got), seqsOf(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func seqsOf(rs []rec) []uint64 {
	var s []uint64
	for _, r := range rs {
		s = append(s, r.seq)
	}
	return s
}

// checkIncreasing fails unless the records' sequence ranges strictly increase.
func checkIncreasing(t *testing.T, rs []rec) {
	t.Helper()
	var last uint64
	for _, r := range rs {
		if r.seq <= last {
			t.Fatalf("seq %d not after %d", r.seq, last)
		}
		last = r.seq + uint64(r.count) - 1
	}
}

// walFiles lists the *.wal files in dir, sorted.
func walFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+fileSuffix))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func lastFile(t *testing.T, dir string) string {
	t.Helper()
	fs := walFiles(t, dir)
	if len(fs) == 0 {
		t.Fatalf("no log files in %s", dir)
	}
	return fs[len(fs)-1]
}

// recordOffsets returns the start offset of every record in a log file, and
// the file size.
func recordOffsets(t *testing.T, path string) ([]int64, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	off := int64(fileHeaderSize)
	for off+recordHeaderSize <= int64(len(b)) {
		h, ok := decodeRecordHeader(b[off:])
		if !ok {
			t.Fatalf("bad record header at %d", off)
		}
		offs = append(offs, off)
		off += recordHeaderSize + int64(h.length)
	}
	return offs, int64(len(b))
}

// snapshotDir returns name → content of every file under dir.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		snap[path] = string(b)
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return snap
}

// copyDir copies the flat directory src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for name, data := range snapshotDir(t, src) {
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(name)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// editFile applies fn to the content of path.
func editFile(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLog creates a log of n records in dir and returns them.
func writeLog(t *testing.T, opts Options, n int) []rec {
	t.Helper()
	w, _ := openLog(t, opts, 0)
	want := appendN(t, w, 0, n)
	mustClose(t, w)
	return want
}
