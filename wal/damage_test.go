package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestTornTailEveryOffset cuts the last record at every byte offset: Open must
// succeed, replay exactly the complete records, leave the file clean, and a
// later append must replay after another reopen.
func TestTornTailEveryOffset(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	want := writeLog(t, opts, 6)
	path := lastFile(t, opts.Dir)
	offs, size := recordOffsets(t, path)
	start := offs[len(offs)-1]
	for cut := start; cut < size; cut++ {
		dir := copyDir(t, opts.Dir)
		o := opts
		o.Dir = dir
		p := filepath.Join(dir, filepath.Base(path))
		truncateFile(t, p, cut)
		w, got := openLog(t, o, 0)
		equalRecs(t, got, want[:len(want)-1])
		if st, _ := os.Stat(p); st.Size() != start {
			t.Fatalf("cut at %d: file is %d bytes after open, want %d", cut, st.Size(), start)
		}
		more := appendN(t, w, 100, 1)
		mustClose(t, w)
		equalRecs(t, replayAll(t, o), append(want[:len(want)-1:len(want)-1], more...))
		os.RemoveAll(dir)
	}
}

// TestTornTailKinds covers the other shapes of an interrupted append at the
// end of the last file.
func TestTornTailKinds(t *testing.T) {
	cases := map[string]struct {
		edit func(b []byte, last int64) []byte
		keep int // records expected to survive, counted from 5
	}{
		"zeroed tail": {func(b []byte, _ int64) []byte { return append(b, make([]byte, 8192)...) }, 5},
		"zeroed last record": {func(b []byte, last int64) []byte {
			clear(b[last:])
			return b
		}, 4},
		"checksum mismatch in last record": {func(b []byte, _ int64) []byte {
			b[len(b)-1] ^= 0xff
			return b
		}, 4},
		"last record payload zeroed after header": {func(b []byte, last int64) []byte {
			clear(b[last+recordHeaderSize:])
			return b
		}, 4},
		"short garbage header": {func(b []byte, _ int64) []byte { return append(b, 1, 2, 3) }, 5},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), Sync: SyncNone}
			want := writeLog(t, opts, 5)
			path := lastFile(t, opts.Dir)
			offs, _ := recordOffsets(t, path)
			editFile(t, path, func(b []byte) []byte { return c.edit(b, offs[len(offs)-1]) })
			w, got := openLog(t, opts, 0)
			equalRecs(t, got, want[:c.keep])
			more := appendN(t, w, 100, 2)
			mustClose(t, w)
			equalRecs(t, replayAll(t, opts), append(want[:c.keep:c.keep], more...))
		})
	}
}

// TestTornHeaderOfNewFile: a crash while a new file was being created leaves
// a short or zeroed header as the last file; Open removes it.
func TestTornHeaderOfNewFile(t *testing.T) {
	for name, content := range map[string][]byte{"short": {'E', 'V'}, "zeroed": make([]byte, 64), "empty": nil} {
		t.Run(name, func(t *testing.T) {
			opts := Options{Dir: t.TempDir()}
			want := writeLog(t, opts, 3)
			extra := filepath.Join(opts.Dir, fileName(1000))
			if err := os.WriteFile(extra, content, 0o644); err != nil {
				t.Fatal(err)
			}
			equalRecs(t, replayAll(t, opts), want)
			if _, err := os.Stat(extra); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("torn file not removed: %v", err)
			}
		})
	}
}

// TestMidLogCorruption flips every byte of an earlier record: Open must fail
// with a CorruptionError naming the file and the record's offset, and Repair
// must truncate there instead.
func TestMidLogCorruption(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	want := writeLog(t, opts, 5)
	path := lastFile(t, opts.Dir)
	offs, _ := recordOffsets(t, path)
	const victim = 2
	for at := offs[victim]; at < offs[victim+1]; at++ {
		dir := copyDir(t, opts.Dir)
		o := opts
		o.Dir = dir
		p := filepath.Join(dir, filepath.Base(path))
		editFile(t, p, func(b []byte) []byte { b[at] ^= 0x5a; return b })
		checkCorrupt(t, o, p, offs[victim])

		o.Repair = true
		w, got := openLog(t, o, 0)
		equalRecs(t, got, want[:victim])
		more := appendN(t, w, 100, 1)
		mustClose(t, w)
		o.Repair = false
		equalRecs(t, replayAll(t, o), append(want[:victim:victim], more...))
		os.RemoveAll(dir)
	}
}

// TestCorruptionInEarlierFile: damage at the tail of a file that is not the
// last one is corruption, not a torn tail.
func TestCorruptionInEarlierFile(t *testing.T) {
	cases := map[string]func(b []byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)-3] },
		"flipped byte": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"zeroed tail":  func(b []byte) []byte { return append(b, make([]byte, 100)...) },
		"bad magic":    func(b []byte) []byte { b[0] = 'X'; return b },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), Sync: SyncNone, MaxFileBytes: 300}
			want := writeLog(t, opts, 20)
			files := walFiles(t, opts.Dir)
			if len(files) < 3 {
				t.Fatalf("want several files, got %d", len(files))
			}
			offs, _ := recordOffsets(t, files[0])
			nOK := len(offs) - 1
			off := offs[nOK]
			switch name {
			case "zeroed tail":
				nOK, off = len(offs), -1
			case "bad magic":
				nOK, off = 0, 0
			}
			editFile(t, files[0], edit)
			checkCorrupt(t, opts, files[0], off)

			opts.Repair = true
			w, got := openLog(t, opts, 0)
			mustClose(t, w)
			equalRecs(t, got, want[:nOK])
			if n := len(walFiles(t, opts.Dir)); n > 1 {
				t.Fatalf("repair left %d files", n)
			}
		})
	}
}

// checkCorrupt opens opts and expects a CorruptionError for file at offset
// off (any offset if off < 0).
func checkCorrupt(t *testing.T, opts Options, file string, off int64) {
	t.Helper()
	w, _, err := tryOpen(opts, 0)
	if err == nil {
		w.Close()
		t.Fatalf("Open succeeded on a log corrupted in %s at %d", file, off)
	}
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want a CorruptionError", err)
	}
	if ce.File != file || (off >= 0 && ce.Offset != off) {
		t.Fatalf("CorruptionError at %s:%d, want %s:%d (%v)", ce.File, ce.Offset, file, off, err)
	}
}

func TestUnsupportedVersion(t *testing.T) {
	for _, repair := range []bool{false, true} {
		opts := Options{Dir: t.TempDir(), Repair: repair}
		writeLog(t, opts, 2)
		editFile(t, lastFile(t, opts.Dir), func(b []byte) []byte { b[4] = formatVersion + 1; return b })
		if _, _, err := tryOpen(opts, 0); !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("repair=%v: Open: %v, want ErrUnsupportedVersion", repair, err)
		}
	}
}

func TestDamagedReservation(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	want := writeLog(t, opts, 2)
	editFile(t, filepath.Join(opts.Dir, reservedName), func(b []byte) []byte { b[9] ^= 1; return b })
	if _, _, err := tryOpen(opts, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	opts.Repair = true
	equalRecs(t, replayAll(t, opts), want)
}

// TestReadOnly: a read-only open writes nothing — not even the truncation of
// a torn tail or the removal of a tmp file — and refuses writes.
func TestReadOnly(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	want := writeLog(t, opts, 5)
	os.WriteFile(filepath.Join(opts.Dir, "x.tmp"), []byte("junk"), 0o644)
	offs, _ := recordOffsets(t, lastFile(t, opts.Dir))
	truncateFile(t, lastFile(t, opts.Dir), offs[len(offs)-1]+5)
	before := snapshotDir(t, opts.Dir)

	ro := opts
	ro.ReadOnly = true
	w, got := openLog(t, ro, 0)
	equalRecs(t, got, want[:len(offs)-1])
	if _, err := w.Append(1, []byte("x"), nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append: %v, want ErrReadOnly", err)
	}
	if err := w.Checkpoint(1 << 30); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Checkpoint: %v, want ErrReadOnly", err)
	}
	mustClose(t, w)
	after := snapshotDir(t, opts.Dir)
	if len(after) != len(before) {
		t.Fatalf("read-only open changed the listing: %d files, was %d", len(after), len(before))
	}
	for name, data := range before {
		if after[name] != data {
			t.Fatalf("read-only open changed %s", name)
		}
	}

	missing := filepath.Join(t.TempDir(), "nope")
	ro.Dir = missing
	w, got = openLog(t, ro, 0)
	mustClose(t, w)
	if _, err := os.Stat(missing); len(got) != 0 || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open of a missing dir: %d records, stat %v", len(got), err)
	}
}
