package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestAppendFramedMatchesAppend: records framed in place are byte for byte
// the records Append writes, and replay the same; the spare bytes are
// overwritten whatever they held.
func TestAppendFramedMatchesAppend(t *testing.T) {
	plain, framed := Options{Dir: t.TempDir()}, Options{Dir: t.TempDir()}
	wp, _ := openLog(t, plain, 0)
	wf, _ := openLog(t, framed, 0)
	var want []rec
	for i := range 40 {
		payload, count := payloadFor(i), uint32(1+i%3)
		first, err := wp.Append(count, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		room := bytes.Repeat([]byte{0xAA}, HeaderRoom)
		var committed uint64
		firstF, err := wf.AppendFramed(count, append(room, payload...), func(s uint64) { committed = s })
		if err != nil || firstF != first || committed != first {
			t.Fatalf("AppendFramed = %d, %v (committed %d); Append gave %d", firstF, err, committed, first)
		}
		want = append(want, rec{first, count, string(payload)})
	}
	mustClose(t, wp)
	mustClose(t, wf)
	files, _ := filepath.Glob(filepath.Join(plain.Dir, "*.wal"))
	if len(files) == 0 {
		t.Fatal("no log files")
	}
	for _, p := range files {
		a, errA := os.ReadFile(p)
		b, errB := os.ReadFile(filepath.Join(framed.Dir, filepath.Base(p)))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between Append and AppendFramed (%v, %v)", filepath.Base(p), errA, errB)
		}
	}
	equalRecs(t, replayAll(t, framed), want)
}

func TestAppendFramedRejects(t *testing.T) {
	w, _ := openLog(t, Options{Dir: t.TempDir()}, 0)
	defer mustClose(t, w)
	for _, rec := range [][]byte{nil, make([]byte, HeaderRoom-1), make([]byte, HeaderRoom+MaxPayload+1)} {
		if _, err := w.AppendFramed(1, rec, nil); err == nil {
			t.Errorf("AppendFramed of %d bytes succeeded", len(rec))
		}
	}
	if _, err := w.AppendFramed(0, make([]byte, HeaderRoom+1), nil); err == nil {
		t.Error("AppendFramed with count 0 succeeded")
	}
	if w.NextSeq() != 1 {
		t.Errorf("rejected appends used seqs: NextSeq %d", w.NextSeq())
	}
}
