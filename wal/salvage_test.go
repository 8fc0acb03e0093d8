package wal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// salvageAll runs Salvage over dir and returns the records it read.
func salvageAll(t *testing.T, dir string) ([]rec, []Damage) {
	t.Helper()
	var got []rec
	damage, err := Salvage(vfs.OS{}, dir, nil, func(r Record) error {
		got = append(got, rec{r.FirstSeq, r.Count, string(r.Payload)})
		return nil
	})
	if err != nil {
		t.Fatalf("Salvage: %v", err)
	}
	return got, damage
}

// TestSalvageReadsPastDamage: a record damaged mid-log stops Open, but
// Salvage returns every other record, names the damaged stretch and the
// sequence numbers that stood there, and sees a torn tail as torn.
func TestSalvageReadsPastDamage(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	w, _ := openLog(t, opts, 0)
	want := appendN(t, w, 0, 8)
	mustClose(t, w)
	path := filepath.Join(opts.Dir, fileName(1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The fourth record starts after the file header and three records.
	off := fileHeaderSize
	for _, r := range want[:3] {
		off += recordHeaderSize + len(r.payload)
	}
	data[off+recordHeaderSize+1] ^= 0x40 // its payload
	data = append(data, 0, 0, 0, 0, 0)   // and a torn tail
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tryOpen(Options{Dir: opts.Dir, ReadOnly: true}, 0); err == nil {
		t.Fatal("Open read a log damaged mid-file")
	}
	got, damage := salvageAll(t, opts.Dir)
	equalRecs(t, got, append(append([]rec{}, want[:3]...), want[4:]...))
	lost := want[3]
	if len(damage) != 2 || damage[0].Offset != int64(off) || damage[0].Torn || damage[0].Lost == nil ||
		*damage[0].Lost != (SeqSpan{lost.seq, lost.seq + uint64(lost.count) - 1}) || !damage[1].Torn || damage[1].Lost != nil {
		t.Fatalf("damage %+v, want record %d at offset %d lost and a torn tail", damage, lost.seq, off)
	}
}

// FuzzSalvage: arbitrary bytes as a log file never make Salvage panic, and
// what it returns is in increasing sequence order, as replay would read it.
func FuzzSalvage(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, _ := salvageAll(t, dir)
		checkIncreasing(t, got)
		w, roGot, err := tryOpen(Options{Dir: dir, ReadOnly: true}, 0)
		if err != nil {
			return
		}
		w.Close()
		if len(got) < len(roGot) {
			t.Fatalf("Salvage read %d records where replay read %d", len(got), len(roGot))
		}
	})
}
