package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// damageKinds change a log file as a crash, a bad disk or a stray write
// would; each takes the file's bytes and a position drawn by the test.
var damageKinds = map[string]func(b []byte, at int) []byte{
	"none":       func(b []byte, _ int) []byte { return b },
	"cut":        func(b []byte, at int) []byte { return b[:at] },
	"flip":       func(b []byte, at int) []byte { b[at] ^= 0x40; return b },
	"zero tail":  func(b []byte, at int) []byte { return append(b, make([]byte, at%300+1)...) },
	"junk tail":  func(b []byte, at int) []byte { return append(b, []byte("not a record header, nor zeros")[:at%29+1]...) },
	"zero from":  func(b []byte, at int) []byte { clear(b[at:]); return b },
	"short file": func(b []byte, at int) []byte { return b[:min(at, fileHeaderSize-1)] },
}

// TestPropertyMappedReplayMatchesRead: replaying through mappings
// (MapPayloads) gives what reading the files gives — the same records,
// the same damage reported at the same place, the same files left after a
// torn tail is cut or a repair — and the payloads it hands out stay as
// replayed, after Open returns, while the reopened log appends over a cut
// tail and checkpoints the files away, and across collections, as long as
// their Owner is kept.
func TestPropertyMappedReplayMatchesRead(t *testing.T) {
	base := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "log")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		opts := Options{Dir: filepath.Join(dir, "src"), Sync: SyncNone, MaxFileBytes: int64(rapid.IntRange(200, 3000).Draw(rt, "max file bytes"))}
		w, _ := openLog(t, opts, 0)
		appendN(t, w, 0, rapid.IntRange(0, 60).Draw(rt, "records"))
		mustClose(t, w)
		files := walFiles(t, opts.Dir)
		if len(files) > 0 {
			kinds := []string{"none", "cut", "flip", "zero tail", "junk tail", "zero from", "short file"}
			kind := rapid.SampledFrom(kinds).Draw(rt, "damage")
			path := files[rapid.IntRange(0, len(files)-1).Draw(rt, "file")]
			editFile(t, path, func(b []byte) []byte {
				return damageKinds[kind](b, rapid.IntRange(0, len(b)-1).Draw(rt, "at"))
			})
		}
		opts.Repair = rapid.Bool().Draw(rt, "repair")
		after := uint64(rapid.IntRange(0, 40).Draw(rt, "after"))
		read, mapped := opts, opts
		read.Dir, mapped.Dir = filepath.Join(dir, "read"), filepath.Join(dir, "mapped")
		for _, d := range []string{read.Dir, mapped.Dir} {
			if err := os.CopyFS(d, os.DirFS(opts.Dir)); err != nil {
				rt.Fatal(err)
			}
		}
		mapped.KeepPayloads, mapped.MapPayloads = true, true
		wr, want, rerr := tryOpen(read, after)
		var kept []Record
		wm, merr := Open(mapped, after, func(r Record) error {
			if r.Owner == nil {
				rt.Fatalf("record %d replayed through a mapping has no Owner", r.FirstSeq)
			}
			kept = append(kept, r)
			return nil
		})
		sameOutcome(rt, read.Dir, mapped.Dir, rerr, merr)
		if rerr != nil {
			return
		}
		got := make([]rec, len(kept))
		for i, r := range kept {
			got[i] = rec{r.FirstSeq, r.Count, string(r.Payload)}
		}
		equalRecs(t, got, want)
		if a, b := dirFiles(rt, read.Dir), dirFiles(rt, mapped.Dir); a != b {
			rt.Fatalf("files left after open differ:\nread   %s\nmapped %s", a, b)
		}
		// Writes after the mapping was made land past every kept payload.
		appendN(t, wm, 1000, rapid.IntRange(0, 30).Draw(rt, "more"))
		if err := wm.Checkpoint(wm.NextSeq() - 1); err != nil {
			rt.Fatal(err)
		}
		mustClose(t, wr)
		mustClose(t, wm)
		runtime.GC()
		for i, r := range kept {
			if string(r.Payload) != want[i].payload {
				rt.Fatalf("kept payload of record %d changed to %q, want %q", r.FirstSeq, r.Payload, want[i].payload)
			}
		}
		runtime.KeepAlive(kept)
	})
}

// sameOutcome fails unless two Opens of copies of one log (in dirs a and
// b) both succeeded, or failed alike: damage at the same file and offset
// for the same reason.
func sameOutcome(rt *rapid.T, a, b string, ea, eb error) {
	if (ea == nil) != (eb == nil) {
		rt.Fatalf("read: %v; mapped: %v", ea, eb)
	}
	if ea == nil {
		return
	}
	var ca, cb *CorruptionError
	if errors.As(ea, &ca) != errors.As(eb, &cb) {
		rt.Fatalf("read: %v; mapped: %v", ea, eb)
	}
	if ca == nil {
		if strings.ReplaceAll(ea.Error(), a, b) != eb.Error() {
			rt.Fatalf("read: %v; mapped: %v", ea, eb)
		}
		return
	}
	if filepath.Base(ca.File) != filepath.Base(cb.File) || ca.Offset != cb.Offset || ca.Reason != cb.Reason {
		rt.Fatalf("read: %v; mapped: %v", ea, eb)
	}
}

// dirFiles lists dir's files with their sizes.
func dirFiles(rt *rapid.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		rt.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			rt.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d ", e.Name(), info.Size())
	}
	return b.String()
}
