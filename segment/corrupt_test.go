package segment

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// bigRows returns n rows with repeating terms, so the postings hold real
// bitmaps and several blocks.
func bigRows(n int) []Row {
	rows := make([]Row, n)
	base, _ := event.ParseDate("2024-05-01T00:00:00.000Z")
	for i := range rows {
		d, _ := event.DateFromParts(base.UnixNano()+int64(i/2)*1e6, base.Format())
		ev := &event.Event{Timestamp: d, Message: fmt.Sprintf("message %d", i)}
		ev.Event.Provider = []string{"alerting", "actions", "eventLog"}[i%3]
		ev.Event.Action = fmt.Sprintf("action-%d", i%7)
		ev.Event.Duration = &event.Duration{Nanos: int64(i) * 1000}
		ev.Kibana.SavedObjects = []event.SavedObject{{Rel: event.RelPrimary, Type: "alert", ID: fmt.Sprintf("r%d", i%40)}}
		rows[i] = Row{Seq: uint64(1000 + i), Event: ev}
	}
	return rows
}

// sectionAt names the section holding byte off of r's file.
func sectionAt(r *Reader, off uint64) (string, int) {
	f := &r.f
	switch {
	case off < headerLen:
		return SectionHeader, -1
	case off < f.BlockIndex.Off:
		return SectionBlock, r.blockAt(off)
	case off < f.BlockIndex.Off+f.BlockIndex.Len:
		return SectionBlockIndex, -1
	case off < f.SeqIndex.Off:
		return SectionPostings, -1
	case off < f.SeqIndex.Off+f.SeqIndex.Len:
		return SectionSeqIndex, -1
	}
	return SectionFooter, -1
}

func (r *Reader) blockAt(off uint64) int {
	for i, b := range r.blocks {
		if off >= b.Off && off < b.Off+b.Len {
			return i
		}
	}
	return -1
}

func checkCorruption(t *testing.T, err error, path, section string, block int) {
	t.Helper()
	var ce *CorruptionError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("want corruption of %s %d, got %v", section, block, err)
	}
	if ce.File != path || ce.Section != section || ce.Block != block || !strings.Contains(err.Error(), path) {
		t.Fatalf("want corruption of %s %d in %s, got %v", section, block, path, err)
	}
}

// flipEach flips byte off (for every off selected by step) of a copy of
// file and checks that Open, or else Verify and Events, report damage to
// the section holding it.
func flipEach(t *testing.T, orig []byte, step int) {
	pristine := filepath.Join(t.TempDir(), "pristine")
	if err := os.WriteFile(pristine, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := Open(pristine, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	path := filepath.Join(t.TempDir(), "damaged")
	for off := 0; off < len(orig); off += step {
		b := append([]byte(nil), orig...)
		b[off] ^= 0x5a
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		section, block := sectionAt(ref, uint64(off))
		t.Run(fmt.Sprintf("byte%d", off), func(t *testing.T) {
			checkFlip(t, path, section, block, int(ref.f.Events))
		})
	}
}

func checkFlip(t *testing.T, path, section string, block, events int) {
	r, err := Open(path, OpenOptions{})
	if section != SectionBlock {
		if err == nil {
			r.Close()
		}
		checkCorruption(t, err, path, section, block)
		return
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	checkCorruption(t, r.Verify(), path, section, block)
	_, err = r.Events(allRows(events))
	checkCorruption(t, err, path, section, block)
}

func TestCorruptEveryByte(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	flipEach(t, golden, 1)
}

func TestCorruptBigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if _, err := Write(path, bigRows(600), WriteOptions{BlockRows: 128}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipEach(t, b, 13)
}

// TestDamageAfterOpen changes a block under an open reader: reads that
// touch it fail naming the file and block, never return wrong data.
func TestDamageAfterOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seg")
	rows := bigRows(600)
	if _, err := Write(path, rows, WriteOptions{BlockRows: 128}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := &r.blocks[2]
	ts := b.Cols[1] // the timestamp column, which Keys reads
	if _, err := f.WriteAt([]byte{0xff, 0xee}, int64(b.Off+ts.Off+ts.CLen/2)); err != nil {
		t.Fatal(err)
	}
	_, err = r.Events([]uint32{b.FirstRow + 1})
	checkCorruption(t, err, path, SectionBlock, 2)
	_, _, err = r.Keys(2)
	checkCorruption(t, err, path, SectionBlock, 2)
	err = r.EachSeqRange(0, math.MaxUint64, func(uint64, *event.Event) error { return nil })
	checkCorruption(t, err, path, SectionBlock, 2)
	// Blocks before the damage still read.
	if ts, _, err := r.Keys(0); err != nil || len(ts) != 128 {
		t.Fatalf("Keys(0) = %d keys, %v", len(ts), err)
	}
}

func TestTruncated(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "short")
	for n := 0; n < len(golden); n++ {
		if err := os.WriteFile(path, golden[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if r, err := Open(path, OpenOptions{}); err == nil {
			r.Close()
			t.Fatalf("Open of %d of %d bytes succeeded", n, len(golden))
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open of %d bytes: %v, want corruption", n, err)
		}
	}
}

func TestUnsupportedVersion(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), golden...)
	b[5] = Version + 1
	b[len(b)-footerLen+footerVersionAt] = Version + 1
	path := filepath.Join(t.TempDir(), "v2")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, OpenOptions{})
	if !errors.Is(err, ErrUnsupportedVersion) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrUnsupportedVersion", err)
	}
}

func TestMissingFileIsNotCorrupt(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"), OpenOptions{})
	if err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(missing) = %v", err)
	}
}
