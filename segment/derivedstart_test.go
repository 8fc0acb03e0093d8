package segment

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// goldenDerivedStartJSON is the row version 7 adds to the golden events
// (sequence 19, last in time): event.start is event.end less
// event.duration, as Kibana writes them, so its stored difference is 0.
const goldenDerivedStartJSON = `{"@timestamp":"2019-12-10T08:00:00.250Z","event":{"provider":"alerting","action":"execute","start":"2019-12-10T07:59:58.000Z","end":"2019-12-10T08:00:00.250Z","duration":"2250000000"}}`

// goldenRowsV7 are goldenRowsV6 with the row whose event.start is derived.
func goldenRowsV7(t testing.TB) []Row {
	t.Helper()
	ev, err := event.Decode([]byte(goldenDerivedStartJSON), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return append(goldenRowsV6(t), Row{Seq: 19, Event: &ev})
}

// TestGoldenV6 checks that a writer asked for version 6 still writes
// exactly the released version 6 fixture.
func TestGoldenV6(t *testing.T) { checkOldWriter(t, 6, goldenRowsV6(t)) }

// TestReadV7 opens the fixture of format version 7: every row comes back
// byte for byte (openFixture).
func TestReadV7(t *testing.T) {
	r := openFixture(t, "testdata/golden-v7.seg", goldenRowsV7(t))
	if info := r.Info(); info.Version != 7 {
		t.Errorf("Info = %+v", info)
	}
}

// TestColumnIDs: the column ids the format names are those of the fields.
func TestColumnIDs(t *testing.T) {
	for id, name := range map[uint8]string{colStart: "event.start", colDuration: "event.duration", colRefs: "kibana.saved_objects"} {
		if f := event.FieldByID(id); f == nil || f.Name != name {
			t.Errorf("column %d is %v, want %s", id, f, name)
		}
	}
}

// genTimedEvent generates an event with event.start near @timestamp less
// event.duration (equal to it most of the time, as Kibana writes it), with
// or without each of the three, at any date precision.
func genTimedEvent() *rapid.Generator[event.Event] {
	return rapid.Custom(func(t *rapid.T) event.Event {
		e := genEvent(0.05).Draw(t, "event")
		ts := e.Timestamp.UnixNano()
		e.Event.Duration = nil
		if rapid.IntRange(0, 4).Draw(t, "hasDuration") > 0 {
			e.Event.Duration = &event.Duration{Nanos: rapid.Int64Range(-1e12, 1e15).Draw(t, "nanos"), Quoted: rapid.Bool().Draw(t, "quoted")}
		}
		e.Event.Start = event.Date{}
		if rapid.IntRange(0, 4).Draw(t, "hasStart") > 0 {
			start := startBase(ts, e.Event.Duration) + rapid.SampledFrom([]int64{0, 0, 0, 1, -1, 1e6, -7e9}).Draw(t, "jitter")
			digits := rapid.SampledFrom([]int{0, 3, 6, 9}).Draw(t, "digits")
			unit := dateUnit(uint64(digits))
			start = start / unit * unit
			d, ok := event.DateFromParts(start, e.Timestamp.Format()&^15|event.Format(digits))
			if !ok {
				t.Fatalf("event.start %d with %d digits is no date", start, digits)
			}
			e.Event.Start = d
		}
		return e
	})
}

// TestDerivedStartRoundTrip: rows whose event.start derives (or nearly)
// from @timestamp and event.duration come back as written, at this version
// and at version 6, whole and when event.start is asked for alone (which
// must not add event.duration to the events).
func TestDerivedStartRoundTrip(t *testing.T) {
	dir := t.TempDir()
	start := event.FieldByID(colStart)
	rapid.Check(t, func(t *rapid.T) {
		evs := rapid.SliceOfN(genTimedEvent(), 1, 30).Draw(t, "events")
		rows := make([]Row, len(evs))
		for i := range evs {
			rows[i] = Row{Seq: uint64(i + 1), Event: &evs[i]}
		}
		sortRows(rows)
		version := rapid.SampledFrom([]int{Version, 6}).Draw(t, "version")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 8).Draw(t, "blockRows"), Version: version})
		defer r.Close()
		checkEvents(t, r, rows)
		n := 0
		for bi, b := range r.Blocks() {
			want := make([]int, b.Rows)
			out := make([]*event.Event, b.Rows)
			for i := range want {
				want[i], out[i] = i, &event.Event{}
			}
			if err := r.Decode(bi, want, []*event.Field{start}, out); err != nil {
				t.Fatalf("Decode(event.start) of block %d: %v", bi, err)
			}
			for i, got := range out {
				exp := rows[n+i].Event.Event.Start
				if got.Event.Start != exp || got.Event.Duration != nil {
					t.Fatalf("block %d row %d: event.start %v, duration %v; want %v and no duration", bi, i, got.Event.Start, got.Event.Duration, exp)
				}
			}
			n += int(b.Rows)
		}
	})
}
