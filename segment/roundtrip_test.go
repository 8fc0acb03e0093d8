package segment

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// writeOpen writes rows to a fresh file and opens it; the reader is closed
// (after a Verify) when the test ends.
// tb is what both *testing.T and *rapid.T offer.
type tb interface {
	Fatalf(format string, args ...any)
}

func writeOpen(t tb, dir string, rows []Row, opts WriteOptions) *Reader {
	path := filepath.Join(dir, "seg")
	if _, err := Write(path, rows, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func allRows(n int) []uint32 {
	rows := make([]uint32, n)
	for i := range rows {
		rows[i] = uint32(i)
	}
	return rows
}

func checkEvents(t *rapid.T, r *Reader, rows []Row) {
	evs, err := r.Events(allRows(len(rows)))
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	for i := range rows {
		if got, want := jsonOf(&evs[i]), jsonOf(rows[i].Event); got != want {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A subset in any order: the reader skips the other rows' values
	// without decoding them, which must land exactly on the wanted ones.
	subset := rapid.SliceOfN(rapid.Uint32Range(0, uint32(len(rows)-1)), 1, 8).Draw(t, "subset")
	evs, err = r.Events(subset)
	if err != nil {
		t.Fatalf("Events(%v): %v", subset, err)
	}
	for i, row := range subset {
		if got, want := jsonOf(&evs[i]), jsonOf(rows[row].Event); got != want {
			t.Fatalf("subset row %d:\n got %s\nwant %s", row, got, want)
		}
	}
}

// checkSeqRange: every row from a drawn sequence number on comes once, in
// sequence order.
func checkSeqRange(t *rapid.T, r *Reader, rows []Row) {
	want := bySeq(rows)
	from := want[rapid.IntRange(0, len(want)-1).Draw(t, "from")].Seq - uint64(rapid.IntRange(0, 1).Draw(t, "dfrom"))
	var got []uint64
	err := r.EachSeqRange(from, math.MaxUint64, func(seq uint64, ev *event.Event) error {
		got = append(got, seq)
		return nil
	})
	if err != nil {
		t.Fatalf("EachSeqRange: %v", err)
	}
	var exp []uint64
	for _, w := range want {
		if w.Seq >= from {
			exp = append(exp, w.Seq)
		}
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("EachSeqRange(%d, max) = %v, want %v", from, got, exp)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")}
		r := writeOpen(t, dir, rows, opts)
		defer r.Close()
		if err := r.Verify(); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if info := r.Info(); info.Events != len(rows) || info.Version != Version {
			t.Fatalf("Info = %+v", info)
		}
		checkEvents(t, r, rows)
		checkSeqRange(t, r, rows)
		checkSource(t, r, rows)
	})
}

func TestWriteRefuses(t *testing.T) {
	dir := t.TempDir()
	ev := func(ts string) *event.Event {
		d, err := event.ParseDate(ts)
		if err != nil {
			t.Fatal(err)
		}
		return &event.Event{Timestamp: d}
	}
	a, b := ev("2024-01-01T00:00:00Z"), ev("2024-01-01T00:00:01Z")
	for name, rows := range map[string][]Row{
		"empty":         nil,
		"unsorted ts":   {{Seq: 1, Event: b}, {Seq: 2, Event: a}},
		"unsorted seq":  {{Seq: 2, Event: a}, {Seq: 1, Event: a}},
		"same position": {{Seq: 1, Event: a}, {Seq: 1, Event: a}},
		"repeated seq":  {{Seq: 1, Event: a}, {Seq: 1, Event: b}},
		"nil event":     {{Seq: 1}},
	} {
		if _, err := Write(filepath.Join(dir, "x"), rows, WriteOptions{}); err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
	}
}

func TestSingleRow(t *testing.T) {
	ev := event.Event{Message: "only"}
	r := writeOpen(t, t.TempDir(), []Row{{Seq: 7, Event: &ev}}, WriteOptions{})
	defer r.Close()
	evs, err := r.Events([]uint32{0})
	if err != nil || jsonOf(&evs[0]) != jsonOf(&ev) {
		t.Fatalf("Events = %v, %v", evs, err)
	}
	if _, err := r.Events([]uint32{1}); err == nil {
		t.Fatal("Events(out of range) succeeded")
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, _, err := r.Keys(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Keys after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func newTestDecoder(t testing.TB) *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return dec
}

// TestUUIDColumns round-trips string vectors made only of UUIDs, plain and
// dictionary-coded, next to one that is not.
func TestUUIDColumns(t *testing.T) {
	ids := []string{"5b2de169-2785-441b-ae8c-186a1936b17d", "00000000-0000-0000-0000-00000000000a", "ffffffff-aaaa-bbbb-cccc-0123456789ab"}
	var rows []Row
	for i := range 12 {
		ev := &event.Event{}
		ev.Kibana.ServerUUID = ids[i%2]                                                      // dictionary of UUIDs
		ev.Kibana.Alert.Rule.Execution.UUID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) // plain UUIDs
		ev.Event.ID = ids[2] + "X"                                                           // not a UUID
		ev.Kibana.SavedObjects = []event.SavedObject{{ID: ids[i%3], Type: "alert"}}
		rows = append(rows, Row{Seq: uint64(i), Event: ev})
	}
	r := writeOpen(t, t.TempDir(), rows, WriteOptions{BlockRows: 5})
	defer r.Close()
	evs, err := r.Events(allRows(len(rows)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if got, want := jsonOf(&evs[i]), jsonOf(rows[i].Event); got != want {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestWriterStreamsLikeWrite: a segment written row by row with Create/Add
// is byte for byte the one Write makes, Each gives its rows back in order,
// and a row out of order fails the writer without leaving a file.
func TestWriterStreamsLikeWrite(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rows := genRows(300).Draw(rt, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 50).Draw(rt, "block_rows")}
		dir := t.TempDir()
		if _, err := Write(filepath.Join(dir, "a.seg"), rows, opts); err != nil {
			rt.Fatal(err)
		}
		stream := func(extra bool) error {
			w, err := Create(filepath.Join(dir, "b.seg"), opts)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if err := w.Add(r); err != nil {
					return err
				}
			}
			if extra {
				if err := w.Add(rows[0]); err == nil || !strings.Contains(err.Error(), "not sorted") {
					rt.Fatalf("out-of-order row: %v", err)
				}
			}
			_, err = w.Finish()
			return err
		}
		if err := stream(true); err == nil {
			rt.Fatal("Finish after a failed Add succeeded")
		}
		if _, err := os.Stat(filepath.Join(dir, "b.seg.tmp")); !os.IsNotExist(err) {
			rt.Fatalf("a failed writer left its temporary file: %v", err)
		}
		if err := stream(false); err != nil {
			rt.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(dir, "a.seg"))
		b, _ := os.ReadFile(filepath.Join(dir, "b.seg"))
		if !bytes.Equal(a, b) {
			rt.Fatal("streamed segment differs from Write's")
		}
		r, err := Open(filepath.Join(dir, "b.seg"), OpenOptions{})
		if err != nil {
			rt.Fatal(err)
		}
		defer r.Close()
		i := 0
		err = r.Each(func(seq uint64, ev *event.Event) error {
			if seq != rows[i].Seq || !bytes.Equal(event.AppendJSON(nil, ev), event.AppendJSON(nil, rows[i].Event)) {
				return fmt.Errorf("row %d: seq %d, want %d", i, seq, rows[i].Seq)
			}
			i++
			return nil
		})
		if err != nil || i != len(rows) {
			rt.Fatalf("Each: %v after %d rows", err, i)
		}
	})
}
