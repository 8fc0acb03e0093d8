package segment

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// fileSource serves ranges of a segment file, recording what was asked
// and failing once fail is set.
type fileSource struct {
	data []byte
	mu   sync.Mutex
	asks [][2]int64
	fail error
}

func (s *fileSource) ReadRange(off, n int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	s.asks = append(s.asks, [2]int64{off, n})
	return s.data[off : off+n : off+n], nil
}

// openBoth writes rows and opens the file twice: mapped, and from its
// pinned part with the blocks served by a fileSource.
func openBoth(t tb, dir string, rows []Row, opts WriteOptions) (*Reader, *Reader, *fileSource) {
	path := filepath.Join(dir, "seg")
	mapped := writeOpen(t, dir, rows, opts)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	pin, err := PinnedPart(f, int64(len(data)))
	if err != nil {
		t.Fatalf("PinnedPart: %v", err)
	}
	src := &fileSource{data: data}
	r, err := OpenSource("seg", pin, src, OpenOptions{})
	if err != nil {
		t.Fatalf("OpenSource: %v", err)
	}
	return mapped, r, src
}

// TestOpenSourceRoundTrip: a Reader over the pinned part and a block
// source answers every read exactly as the mapped file does (the same
// checks as TestRoundTrip, against the rows written), and asks the source
// only for ranges of the block area.
func TestOpenSourceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		mapped, r, src := openBoth(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")})
		defer mapped.Close()
		defer r.Close()
		if err := r.Verify(); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if r.Info() != mapped.Info() {
			t.Fatalf("Info %+v, mapped %+v", r.Info(), mapped.Info())
		}
		checkEvents(t, r, rows)
		checkSeqRange(t, r, rows)
		checkSource(t, r, rows)
		for _, a := range src.asks {
			if a[0] < headerLen || uint64(a[0]+a[1]) > mapped.f.BlockIndex.Off {
				t.Fatalf("source asked for %d bytes at %d, outside the block area [8, %d)", a[1], a[0], mapped.f.BlockIndex.Off)
			}
		}
	})
}

// TestOpenSourceReadsOnlyWantedColumns: decoding one field of one block
// fetches that block's keys and that column, nothing of other blocks.
func TestOpenSourceReadsOnlyWantedColumns(t *testing.T) {
	rows := make([]Row, 64)
	for i := range rows {
		ev := &event.Event{Message: fmt.Sprintf("message %d with some words in it", i)}
		ev.Event.Action = fmt.Sprintf("action-%d", i%3)
		ev.Timestamp, _ = event.ParseDate(fmt.Sprintf("2024-05-01T10:00:%02dZ", i%60))
		rows[i] = Row{Seq: uint64(i + 1), Event: ev}
	}
	sortRows(rows)
	mapped, r, src := openBoth(t, t.TempDir(), rows, WriteOptions{BlockRows: 16})
	defer mapped.Close()
	defer r.Close()
	b := r.blocks[2]
	var ev event.Event
	if err := r.Decode(2, []int{0}, []*event.Field{event.FieldByName("event.action")}, []*event.Event{&ev}); err != nil {
		t.Fatal(err)
	}
	var fetched int64
	for _, a := range src.asks {
		if uint64(a[0]) < b.Off || uint64(a[0]+a[1]) > b.Off+b.Len {
			t.Fatalf("decoding block 2 fetched %d bytes at %d, outside the block [%d, %d)", a[1], a[0], b.Off, b.Off+b.Len)
		}
		fetched += a[1]
	}
	if len(src.asks) != 1 || fetched >= int64(b.Len) {
		t.Fatalf("decoding one field fetched %v (%d bytes) of a %d-byte block, want one column", src.asks, fetched, b.Len)
	}
	if want := rows[32].Event.Event.Action; ev.Event.Action != want {
		t.Fatalf("event.action %q, want %q", ev.Event.Action, want)
	}
}

// TestOpenSourceErrors: a failing or short source fails the read with its
// error (not as damage); a damaged pinned part is damage.
func TestOpenSourceErrors(t *testing.T) {
	rows := []Row{{Seq: 1, Event: &event.Event{Message: "one"}}, {Seq: 2, Event: &event.Event{Message: "two"}}}
	mapped, r, src := openBoth(t, t.TempDir(), rows, WriteOptions{})
	defer mapped.Close()
	defer r.Close()
	boom := errors.New("connection reset")
	src.fail = boom
	_, err := r.Events([]uint32{0})
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Events with a failing source: %v, want the source's error, not damage", err)
	}
	src.fail = nil
	short := &shortSource{src}
	r2, err := OpenSource("seg", r.pin, short, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Events([]uint32{1}); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Events with a short source: %v, want an I/O error", err)
	}
	for name, pin := range map[string][]byte{
		"truncated":        r.pin[:len(r.pin)-1],
		"tiny":             r.pin[:20],
		"flipped postings": flip(r.pin, headerLen+int(r.f.Postings.Off-r.pinOff)),
		"flipped footer":   flip(r.pin, len(r.pin)-footerLen+3),
	} {
		if _, err := OpenSource("seg", pin, src, OpenOptions{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s pinned part: %v, want damage", name, err)
		}
	}
}

type shortSource struct{ s *fileSource }

func (s *shortSource) ReadRange(off, n int64) ([]byte, error) {
	b, err := s.s.ReadRange(off, n)
	return b[:len(b)-1], err
}

// prefetchSource is a fileSource that records Prefetch calls.
type prefetchSource struct {
	fileSource
	prefetched [][][2]int64
}

func (s *prefetchSource) Prefetch(ranges [][2]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefetched = append(s.prefetched, ranges)
}

// TestOpenSourcePrefetch: decoding two fields of a block hands a
// Prefetcher exactly those two columns' ranges, once, before reading
// them, and the reads that follow ask for the same ranges; one field is
// not prefetched; a block's keys (two columns) are.
func TestOpenSourcePrefetch(t *testing.T) {
	rows := make([]Row, 20)
	for i := range rows {
		ev := &event.Event{Message: fmt.Sprintf("message %d", i)}
		ev.Event.Action, ev.Event.Provider = fmt.Sprintf("action-%d", i%3), "actions"
		rows[i] = Row{Seq: uint64(i + 1), Event: ev}
	}
	mapped, _, fsrc := openBoth(t, t.TempDir(), rows, WriteOptions{BlockRows: 8})
	defer mapped.Close()
	src := &prefetchSource{fileSource: fileSource{data: fsrc.data}}
	r, err := OpenSource("seg", fsrc.dataPin(t), src, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	evs := make([]event.Event, 2)
	fields := []*event.Field{event.FieldByName("event.action"), event.FieldByName("message")}
	if err := r.Decode(1, []int{0, 3}, fields, []*event.Event{&evs[0], &evs[1]}); err != nil {
		t.Fatal(err)
	}
	if len(src.prefetched) != 1 || len(src.prefetched[0]) != 2 {
		t.Fatalf("prefetched %v, want one call with two ranges", src.prefetched)
	}
	if !slices.Equal(src.prefetched[0], src.asks) {
		t.Fatalf("prefetched %v, then read %v", src.prefetched[0], src.asks)
	}
	if evs[0].Message != "message 8" || evs[1].Event.Action != "action-2" {
		t.Fatalf("decoded %q and %q", evs[0].Message, evs[1].Event.Action)
	}
	src.prefetched, src.asks = nil, nil
	if err := r.Decode(1, []int{0}, fields[:1], []*event.Event{&evs[0]}); err != nil || len(src.prefetched) != 0 {
		t.Fatalf("decoding one field: %v, prefetched %v; want no prefetch", err, src.prefetched)
	}
	// The keys' two columns are handed over together before being read.
	src.prefetched, src.asks = nil, nil
	if _, _, err := r.Keys(2); err != nil {
		t.Fatal(err)
	}
	if len(src.prefetched) != 1 || !slices.Equal(src.prefetched[0], src.asks) || len(src.asks) != 2 {
		t.Fatalf("keys of block 2: prefetched %v, read %v; want the same two ranges", src.prefetched, src.asks)
	}
}

// dataPin returns the pinned part of the file s serves.
func (s *fileSource) dataPin(t tb) []byte {
	pin, err := PinnedPart(bytes.NewReader(s.data), int64(len(s.data)))
	if err != nil {
		t.Fatalf("PinnedPart: %v", err)
	}
	return pin
}
