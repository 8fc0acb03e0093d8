package segment

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// FuzzOpen treats arbitrary bytes as a segment file: Open must fail or
// return a Reader whose every read fails cleanly or answers; nothing may
// panic.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.seg")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, OpenOptions{})
		if err != nil {
			return
		}
		defer r.Close()
		for bi := range r.Blocks() {
			_, _, _ = r.Keys(bi)
		}
		_, _ = r.Postings(index.Term{Field: "event.provider", Value: "alerting"})
		_, _ = r.Events(allRows(r.Info().Events))
		_ = r.EachSeqRange(0, math.MaxUint64, func(uint64, *event.Event) error { return nil })
		_ = r.Verify()
		_ = r.Describe(discard{})
	})
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestFuzzSeedsCurrent keeps testdata/fuzz/FuzzOpen in step with the
// format: the golden file, a multi-block file and damaged versions of both,
// and the fixture of every older version (readers keep reading them).
// With -update (or EVENTLOG_UPDATE_GOLDEN=1) it rewrites them; otherwise a
// stale seed fails the test, so the fuzzer never starts from an old format.
func TestFuzzSeedsCurrent(t *testing.T) {
	regenerate := *update || os.Getenv("EVENTLOG_UPDATE_GOLDEN") == "1"
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "multi")
	if _, err := Write(path, bigRows(40), WriteOptions{BlockRows: 8}); err != nil {
		t.Fatal(err)
	}
	multi, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	goldenV2, err := os.ReadFile("testdata/golden-v2.seg")
	if err != nil {
		t.Fatal(err)
	}
	goldenV1, err := os.ReadFile("testdata/golden-v1.seg")
	if err != nil {
		t.Fatal(err)
	}
	goldenV4, err := os.ReadFile("testdata/golden-v4.seg")
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"golden-v1":           goldenV1,
		"golden-v2":           goldenV2,
		"golden-v4":           goldenV4,
		"golden":              golden,
		"multi":               multi,
		"golden-truncated":    golden[:len(golden)/2],
		"golden-no-footer":    golden[:len(golden)-footerLen],
		"golden-flip-block":   flip(golden, headerLen+10),
		"golden-flip-footer":  flip(golden, len(golden)-30),
		"multi-flip-postings": flip(multi, len(multi)-footerLen-40),
		"empty":               {},
	}
	// FuzzOpen and FuzzSalvage start from the same files.
	for _, target := range []string{"FuzzOpen", "FuzzSalvage"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			checkSeed(t, regenerate, filepath.Join(dir, name), b)
		}
	}
}

// checkSeed writes a seed file (regenerate) or checks it holds data.
func checkSeed(t *testing.T, regenerate bool, path string, data []byte) {
	t.Helper()
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
	if regenerate {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if have, err := os.ReadFile(path); err != nil || string(have) != body {
		t.Errorf("fuzz seed %s is missing or stale (%v): regenerate with go test ./segment -run TestFuzzSeedsCurrent -update", path, err)
	}
}

func flip(b []byte, off int) []byte {
	c := append([]byte(nil), b...)
	c[off] ^= 0xff
	return c
}

// FuzzDecoders feeds arbitrary bytes to the decoders that run after a CRC
// matched (block index, sequence index, every column codec, postings), as a
// crafted file with valid checksums would: they must fail cleanly.
func FuzzDecoders(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(4), golden[headerLen:])
	f.Add(uint8(1), []byte{0, 1, 2, 3, 4})
	dec := newTestDecoder(f)
	keys := goldenRefKeys(f)
	f.Fuzz(func(t *testing.T, rows uint8, data []byte) {
		n := int(rows)%64 + 1
		ft := &footer{Events: uint64(n), Blocks: 1, MaxTS: 1 << 62, MaxSeq: 1 << 62, BlockIndex: section{Off: 100}}
		_, _, _ = decodeBlockIndex(data, ft)
		_, _ = decodeSeqIndex(data, ft)
		_, _ = decodeSeqColumn(data, n)
		_, _, _ = decodeTSColumn(data, n, false)
		_, _, _ = decodeTSColumn(data, n, true)
		_, _ = decodeRefIDs(string(data), []event.SavedObject{{ID: "0123456789"}, {ID: "short"}, {ID: "nul\x00nul\x00nul"}})
		for _, fd := range event.Fields() {
			evs := make([]event.Event, n)
			_ = decodeFieldColumn(data, &fd, evs, uint32(n/2), nil, false)
			_ = decodeFieldColumn(data, &fd, evs, uint32(n/2), keys, true)
		}
		start := event.FieldByID(colStart) // from the extreme durations too
		for _, nanos := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64} {
			evs := make([]event.Event, n)
			for i := range evs {
				evs[i].Event.Duration = &event.Duration{Nanos: nanos}
			}
			_ = decodeFieldColumn(data, start, evs, uint32(n/2), nil, true)
		}
		ft.Version = VersionRefKeys
		_, _, _ = decodeBlockIndex(data, ft)
		if p, err := index.Open(data, dec); err == nil {
			_ = p.Each(func(index.TermInfo) error { return nil })
			_, _, _ = p.Lookup(index.Term{Field: "event.provider", Value: "alerting"})
		}
	})
}
