package eventlog

import (
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// dedupModel is the simple model of idempotent ingest: per client id, the
// event as stored (stamped) and its sequence number.
type dedupModel struct {
	dir    string
	db     *DB
	now    atomic.Int64
	stored map[string]storedModel
	// anonymous counts the live events without a client id, by action.
	anonymous map[string]int
}

type storedModel struct {
	ev  Event
	seq uint64
	// erased: deleted by query; the id stays known within the window.
	erased bool
}

// modelWindow is the dedup window of the model runs.
const modelWindow = time.Hour

// TestDedupModel runs random appends with repeated and conflicting client
// ids, restarts, rolls (seals), compactions, deletes and window expiry
// against the model: every answer, and afterwards every live id stored
// exactly once under its first sequence number. Erased ids stay known
// (Duplicate or Conflict) until the window has passed; once it has, and
// compaction purged their rows, a retry stores the event again.
func TestDedupModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		m := &dedupModel{dir: t.TempDir(), stored: map[string]storedModel{}, anonymous: map[string]int{}}
		m.now.Store(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		m.open(rt)
		defer func() { m.db.Close() }()
		rt.Repeat(map[string]func(*rapid.T){
			"append": m.append,
			"reopen": func(rt *rapid.T) {
				if err := m.db.Close(); err != nil {
					rt.Fatal(err)
				}
				m.open(rt)
			},
			"roll": func(rt *rapid.T) {
				if err := m.db.Roll(ctx); err != nil {
					rt.Fatal(err)
				}
			},
			"compact": func(rt *rapid.T) {
				if _, err := m.db.Compact(ctx); err != nil {
					rt.Fatal(err)
				}
			},
			"delete": m.delete,
			"expire": m.expire,
			"":       m.check,
		})
	})
}

func (m *dedupModel) clock() time.Time { return time.Unix(0, m.now.Load()).UTC() }

func (m *dedupModel) open(rt *rapid.T) {
	db, err := Open(m.dir, Options{AllowUnregistered: true, Sync: SyncNone, SegmentMaxBytes: 1 << 10, Now: m.clock, DedupWindow: modelWindow, MaintenanceInterval: -1})
	if err != nil {
		rt.Fatalf("open: %v", err)
	}
	m.db = db
}

// genDedupEvent draws an event from few contents, often without
// @timestamp, with a client id from a small pool or none.
func genDedupEvent(rt *rapid.T) Event {
	e := ev("p", rapid.SampledFrom([]string{"a1", "a2"}).Draw(rt, "action"), "")
	if rapid.Bool().Draw(rt, "has_ts") {
		e.Timestamp = ts(rapid.SampledFrom([]string{"2024-05-01T00:00:00Z", "2024-05-01T00:00:01.5Z"}).Draw(rt, "ts"))
	}
	e.Index = rapid.SampledFrom([]string{"", "logs-a"}).Draw(rt, "index")
	e.ClientID = rapid.SampledFrom([]string{"", "id-1", "id-2", "id-3", "id-4"}).Draw(rt, "id")
	return e
}

func (m *dedupModel) append(rt *rapid.T) {
	m.now.Add(int64(rapid.IntRange(0, 3).Draw(rt, "tick")) * int64(time.Second))
	events := rapid.SliceOfN(rapid.Custom(genDedupEvent), 1, 6).Draw(rt, "events")
	got, err := m.db.Append(ctx, events...)
	if err != nil {
		rt.Fatalf("append: %v", err)
	}
	if got.Count != len(events) || (got.Items == nil) != (batchClientIDs(events) == nil) {
		rt.Fatalf("answer %+v for %d events", got, len(events))
	}
	for i, e := range events {
		want, seq := m.expect(e)
		if got.Items != nil && got.Items[i].Result != want {
			rt.Fatalf("event %d (%s): %v, want %v", i, event.AppendJSON(nil, &e), got.Items[i].Result, want)
		}
		if want != Created && got.Seq(i) != seq {
			rt.Fatalf("event %d: seq %d, want the stored %d", i, got.Seq(i), seq)
		}
		if want == Created {
			if e.Timestamp.IsZero() {
				e.Timestamp = event.DateOf(m.clock())
			}
			if e.ClientID != "" {
				m.stored[e.ClientID] = storedModel{ev: e, seq: got.Seq(i)}
			} else {
				m.anonymous[e.Event.Action]++
			}
		}
	}
}

// expect is the model's answer for e: Created for a new id, else Duplicate
// when e equals the stored event once a missing @timestamp is filled in.
func (m *dedupModel) expect(e Event) (AppendResult, uint64) {
	s, ok := m.stored[e.ClientID]
	if e.ClientID == "" || !ok {
		return Created, 0
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = s.ev.Timestamp
	}
	if reflect.DeepEqual(e, s.ev) {
		return Duplicate, s.seq
	}
	return Conflict, s.seq
}

// delete erases every event of one action.
func (m *dedupModel) delete(rt *rapid.T) {
	action := rapid.SampledFrom([]string{"a1", "a2"}).Draw(rt, "delete_action")
	if _, err := m.db.Delete(ctx, DeleteRequest{Filter: "event.action:" + action}); err != nil {
		rt.Fatalf("delete: %v", err)
	}
	m.anonymous[action] = 0
	for id, s := range m.stored {
		if s.ev.Event.Action == action {
			s.erased = true
			m.stored[id] = s
		}
	}
}

// expire purges every erased row (compaction), then lets the window pass:
// the erased ids are forgotten.
func (m *dedupModel) expire(rt *rapid.T) {
	if _, err := m.db.Compact(ctx); err != nil {
		rt.Fatalf("compact: %v", err)
	}
	m.now.Add(int64(modelWindow + time.Second))
	for id, s := range m.stored {
		if s.erased {
			delete(m.stored, id)
		}
	}
}

// check: the store holds every live event (besides its own records of
// deletes), and each live client id once, under the model's sequence
// number.
func (m *dedupModel) check(rt *rapid.T) {
	n, err := m.db.Count(ctx, FindRequest{Terms: []Term{{Field: "event.provider", Values: []string{"p"}}}})
	if err != nil {
		rt.Fatal(err)
	}
	want := 0
	for _, c := range m.anonymous {
		want += c
	}
	for _, s := range m.stored {
		if !s.erased {
			want++
		}
	}
	if n != want {
		rt.Fatalf("store holds %d events, model %d", n, want)
	}
	for id, s := range m.stored {
		if s.erased {
			continue
		}
		res, err := m.db.Query(ctx, query.Request{Filter: `_id:"` + id + `"`})
		if err != nil {
			rt.Fatal(err)
		}
		if res.Total != 1 || res.Hits[0].Seq != s.seq || res.Hits[0].Event.ClientID != id {
			rt.Fatalf("id %s: %d hits (%+v), want one with seq %d", id, res.Total, res.Hits, s.seq)
		}
	}
}
