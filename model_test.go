package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/filter"
)

// TestModel runs random sequences of Append, Find and Close+Open against the
// engine and a plain in-memory model, and requires identical results.
// More checks: go test -run TestModel -rapid.checks=2000.
func TestModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		m := &modelRun{dir: t.TempDir()}
		m.setNow(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
		m.follower = modelNode{dir: t.TempDir(), now: m.clock()}
		defer func() {
			if m.follower.db != nil {
				m.follower.db.Close()
			}
		}()
		// Some runs roll by size all the time, so every layout is exercised:
		// everything in the head, one segment, many small ones.
		m.segmentBytes = rapid.SampledFrom([]int64{0, 1 << 10, 8 << 10}).Draw(rt, "segment_bytes")
		// Some runs expire events: the clock moves with appends, so events
		// (stamped within 20 s of the start) expire as runs go on.
		m.maxAge = rapid.SampledFrom([]time.Duration{0, 0, 15 * time.Second, time.Minute}).Draw(rt, "max_age")
		// Some keep failures for a shorter (or, with no default, a
		// bounded) time: a rule every read must apply, Find and Count too.
		m.failureAge = rapid.SampledFrom([]time.Duration{0, 0, 8 * time.Second}).Draw(rt, "failure_age")
		m.open(rt)
		defer func() { m.db.Close() }()
		rt.Repeat(map[string]func(*rapid.T){
			"append": m.append,
			"find":   m.find,
			"query":  m.query,
			"tail":   m.tail,
			"reopen": m.reopen,
			"delete": m.delete,
			// Incident holds: a held event stays visible (past its age,
			// through deletes made after the hold) until released.
			"hold":    m.hold,
			"release": m.release,
			// A read-only node following the writer (model_node_test.go).
			"node": m.node,
			"retention": func(rt *rapid.T) {
				if _, err := m.db.ApplyRetention(ctx); err != nil {
					rt.Fatalf("retention: %v", err)
				}
			},
			"compact": func(rt *rapid.T) {
				if _, err := m.db.Compact(ctx); err != nil {
					rt.Fatalf("compact: %v", err)
				}
			},
			// The Merkle tree (issue 19): whatever the steps, a closed
			// store's tree matches it: no event altered or slipped in,
			// every head consistent, and no event the model holds live
			// missing. Deleted and expired events read as erased, or (a
			// path that does not record its erasure yet) missing.
			"chain": func(rt *rapid.T) {
				if err := m.db.Close(); err != nil {
					rt.Fatalf("close: %v", err)
				}
				r, err := VerifyChain(m.dir, Options{AllowUnregistered: true, Now: m.clock}, nil)
				if err != nil {
					rt.Fatalf("verify chain: %v", err)
				}
				for _, p := range r.Problems {
					i := slices.IndexFunc(m.events, func(me modelEvent) bool { return me.seq == p.Seq })
					if p.Kind != "missing" || i >= 0 && m.live(&m.events[i].ev) {
						rt.Fatalf("verify chain: %v", p)
					}
				}
				if r.Leaves < uint64(len(m.events)) {
					rt.Fatalf("%d leaves for %d stored events", r.Leaves, len(m.events))
				}
				m.open(rt)
			},
			"roll": func(rt *rapid.T) {
				if err := m.db.Roll(ctx); err != nil {
					rt.Fatalf("roll: %v", err)
				}
			},
			"": func(rt *rapid.T) {
				// Retention drops segments and records each drop: then the
				// engine holds at least the visible events.
				s := m.db.Stats()
				// Deletes add records, and their rows stay on disk until
				// purged.
				if held := s.HeadEvents + s.SegmentEvents; (!m.internal() && held != len(m.events)) || held < m.visible() {
					rt.Fatalf("engine holds %d+%d events, model %d (%d visible)", s.HeadEvents, s.SegmentEvents, len(m.events), m.visible())
				}
			},
		})
	})
}

type modelEvent struct {
	seq uint64
	ev  Event
	// blockedBy are the deletes (their Seq) that selected the event while
	// a hold pinned it: it is erased once no hold made before one of them
	// pins it any more.
	blockedBy []uint64
}

// modelHold is an incident hold as the model knows it.
type modelHold struct {
	name   string
	f      *filter.Filter
	lo, hi int64
	after  uint64
}

func (h *modelHold) pins(e *Event) bool {
	ts := e.Timestamp.UnixNano()
	return ts >= h.lo && ts <= h.hi && h.f.Match(e)
}

type modelRun struct {
	dir          string
	segmentBytes int64
	db           *DB
	now          atomic.Int64 // the DB's clock (read by its goroutines too)
	events       []modelEvent
	lastSeq      uint64
	maxAge       time.Duration // RetentionMaxAge; 0: off
	failureAge   time.Duration // a retention rule's max age for event.outcome:failure; 0: no rule
	deletes      int           // deletes by query so far
	holds        []modelHold   // the holds in force
	holdsMade    int           // holds created so far (each adds a record)
	follower     modelNode     // a read-only node following the store
	nodeFloor    atomic.Int64  // the writer's clock at the node's last install (Unix ns)
}

// internal reports whether the store may hold records of its own (drops,
// deletes) besides the model's events.
func (m *modelRun) internal() bool {
	return m.maxAge > 0 || m.failureAge > 0 || m.deletes > 0 || m.holdsMade > 0
}

// held reports whether a hold in force (made before seq, when seq > 0)
// pins e.
func (m *modelRun) held(e *Event, before uint64) bool {
	return slices.ContainsFunc(m.holds, func(h modelHold) bool { return (before == 0 || h.after < before) && h.pins(e) })
}

// live reports whether e is visible now: held, or not expired by
// retention, whose rule (when set) decides the age of failures.
func (m *modelRun) live(e *Event) bool {
	if m.held(e, 0) {
		return true
	}
	age := m.maxAge
	if m.failureAge > 0 && e.Event.Outcome == "failure" {
		age = m.failureAge
	}
	return age == 0 || !e.Timestamp.Time().Before(m.clock().Add(-age))
}

// visible counts the model's events retention has not expired.
func (m *modelRun) visible() int {
	n := 0
	for i := range m.events {
		if m.live(&m.events[i].ev) {
			n++
		}
	}
	return n
}

// ownEvents restricts a filter to the model's own events: with retention
// on, the store adds a record of each drop (provider eventlog).
func (m *modelRun) ownEvents(filter string) string {
	if !m.internal() {
		return filter
	}
	if filter == "" {
		return "not event.provider:eventlog"
	}
	return "(" + filter + ") and not event.provider:eventlog"
}

func (m *modelRun) clock() time.Time { return time.Unix(0, m.now.Load()).UTC() }

func (m *modelRun) setNow(t time.Time) { m.now.Store(t.UnixNano()) }

func (m *modelRun) open(rt *rapid.T) {
	opts := Options{AllowUnregistered: true, Sync: SyncNone, SegmentMaxBytes: m.segmentBytes, Now: m.clock, RetentionMaxAge: m.maxAge, Integrity: true}
	if m.failureAge > 0 {
		opts.RetentionRules = []RetentionRule{{Filter: "event.outcome:failure", MaxAge: m.failureAge}}
	}
	db, err := Open(m.dir, opts)
	if err != nil {
		rt.Fatalf("open: %v", err)
	}
	m.db = db
}

func (m *modelRun) reopen(rt *rapid.T) {
	if err := m.db.Close(); err != nil {
		rt.Fatalf("close: %v", err)
	}
	m.open(rt)
}

var (
	genProvider = rapid.SampledFrom([]string{"p1", "p2"})
	genAction   = rapid.SampledFrom([]string{"a1", "a2"})
	genOutcome  = rapid.SampledFrom([]string{"", "success", "failure"})
	genUser     = rapid.SampledFrom([]string{"", "u1", "u2"})
	genTag      = rapid.SampledFrom([]string{"t1", "t2", "t3"})
	genRefType  = rapid.SampledFrom([]string{"alert", "action"})
	genRefID    = rapid.SampledFrom([]string{"A", "B", "C"})
	genSpace    = rapid.SampledFrom([]string{"", "default", "s1"})
	genRel      = rapid.SampledFrom([]string{"", "primary"})
	genZone     = rapid.SampledFrom([]int{0, 3600, -9000})
	genSpaceID  = rapid.SampledFrom([]string{"default", "s1", "s2"})
	// genMessage draws short texts over a few words, with case and
	// punctuation, so word searches hit and miss.
	genMessage = rapid.Custom(func(rt *rapid.T) string {
		words := rapid.SliceOfN(rapid.SampledFrom([]string{"disk", "Disk", "full", "timeout", "rule-7", "ok", "épée"}), 0, 4).Draw(rt, "words")
		return strings.Join(words, rapid.SampledFrom([]string{" ", ", ", ": "}).Draw(rt, "sep"))
	})
)

// genTime draws an instant within a few seconds of the model's epoch, often
// equal to another, so ties and out-of-order arrivals are common.
func genTime(rt *rapid.T, label string) time.Time {
	sec := rapid.IntRange(0, 20).Draw(rt, label+"_s")
	ms := rapid.SampledFrom([]int{0, 0, 500}).Draw(rt, label+"_ms")
	return time.Date(2024, 5, 1, 0, 0, sec, ms*1e6, time.UTC)
}

// keptSamples are fields outside the schema that half the model's events
// keep (DecodeWith with KeepUnknown), so queries on their dotted paths, and
// their round trip through WAL, head, segments and compaction, are part of
// the model.
var keptSamples = []string{
	`{"syslog":{"facility":"local0","severity":3},"process":{"pid":4242}}`,
	`{"syslog":{"facility":"local7"},"agent":{"name":"vector-0.3"},"host":{"architecture":"arm64"}}`,
	`{"process":{"pid":"77","args":["-v",2.50]},"agent":{"name":"fluent-bit","up":true}}`,
	`{"x":null,"host":{"architecture":"x86_64"},"event":{"module_v":{"a":[1,{"b":"c"}]}}}`,
}

func keptExtra(rt *rapid.T, doc string) event.Extra {
	e, err := event.DecodeWith([]byte(doc), event.DecodeOptions{KeepUnknown: true})
	if err != nil {
		rt.Fatalf("kept sample %s: %v", doc, err)
	}
	return e.Extra
}

func genEvent(rt *rapid.T) Event {
	var e Event
	e.Event.Provider = genProvider.Draw(rt, "provider")
	e.Event.Action = genAction.Draw(rt, "action")
	e.Event.Outcome = genOutcome.Draw(rt, "outcome")
	e.User.Name = genUser.Draw(rt, "user")
	e.Message = genMessage.Draw(rt, "message")
	if rapid.Bool().Draw(rt, "has_duration") {
		e.Event.Duration = &event.Duration{Nanos: rapid.Int64Range(-5, 2000).Draw(rt, "duration")}
	}
	if rapid.Bool().Draw(rt, "has_end") {
		e.Event.End = event.DateOf(genTime(rt, "end"))
	}
	if rapid.IntRange(0, 3).Draw(rt, "has_spaces") == 0 {
		e.Kibana.SpaceIDs = event.Strings(genSpaceID.Draw(rt, "space_id"))
	}
	if tags := rapid.SliceOfNDistinct(genTag, 0, 2, func(s string) string { return s }).Draw(rt, "tags"); len(tags) > 0 {
		e.Tags = event.Strings(tags...)
	}
	for range rapid.IntRange(0, 2).Draw(rt, "refs") {
		e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
			Rel: genRel.Draw(rt, "rel"), Namespace: genSpace.Draw(rt, "ns"),
			Type: genRefType.Draw(rt, "type"), ID: genRefID.Draw(rt, "id"),
		})
	}
	if i := rapid.IntRange(0, 2*len(keptSamples)-1).Draw(rt, "kept"); i < len(keptSamples) {
		e.Extra = keptExtra(rt, keptSamples[i])
	}
	if rapid.IntRange(0, 9).Draw(rt, "stamped") > 0 {
		zone := genZone.Draw(rt, "zone")
		text := genTime(rt, "ts").In(time.FixedZone("", zone)).Format("2006-01-02T15:04:05.000Z07:00")
		d, err := event.ParseDate(text)
		if err != nil {
			rt.Fatalf("date %q: %v", text, err)
		}
		e.Timestamp = d
	}
	return e
}

func (m *modelRun) append(rt *rapid.T) {
	batch := rapid.SliceOfN(rapid.Custom(genEvent), 1, 5).Draw(rt, "batch")
	m.setNow(m.clock().Add(time.Duration(rapid.IntRange(0, 3).Draw(rt, "tick")) * time.Second))
	res, err := m.db.Append(ctx, batch...)
	if err != nil {
		rt.Fatalf("append: %v", err)
	}
	if res.Count != len(batch) || res.FirstSeq <= m.lastSeq {
		rt.Fatalf("append gave %+v after seq %d", res, m.lastSeq)
	}
	for i, e := range batch {
		if e.Timestamp.IsZero() {
			e.Timestamp = event.DateOf(m.clock())
		}
		m.events = append(m.events, modelEvent{seq: res.Seq(i), ev: e})
	}
	m.lastSeq = res.Seq(len(batch) - 1)
}

func genRequest(rt *rapid.T) FindRequest {
	var req FindRequest
	if rapid.Bool().Draw(rt, "has_start") {
		req.Start = genTime(rt, "start")
	}
	if rapid.Bool().Draw(rt, "has_end") {
		req.End = genTime(rt, "end")
	}
	terms := map[string]*rapid.Generator[string]{"event.provider": genProvider, "event.action": genAction, "event.outcome": genOutcome, "user.name": genUser, "tags": genTag}
	names := []string{"event.provider", "event.action", "event.outcome", "user.name", "tags"}
	for _, f := range rapid.SliceOfNDistinct(rapid.SampledFrom(names), 0, 2, func(s string) string { return s }).Draw(rt, "term_fields") {
		req.Terms = append(req.Terms, Term{Field: f, Values: rapid.SliceOfN(terms[f], 1, 2).Draw(rt, f)})
	}
	if rapid.IntRange(0, 2).Draw(rt, "has_refs") == 0 {
		req.SavedObjects = &RefFilter{
			Type: genRefType.Draw(rt, "rtype"), IDs: rapid.SliceOfN(genRefID, 1, 2).Draw(rt, "rids"),
			Space: genSpace.Draw(rt, "rspace"), PrimaryOnly: rapid.Bool().Draw(rt, "primary"),
		}
	}
	if rapid.Bool().Draw(rt, "desc") {
		req.Order = Descending
	}
	req.Limit = rapid.IntRange(1, 7).Draw(rt, "limit")
	return req
}

func (m *modelRun) find(rt *rapid.T) {
	req := genRequest(rt)
	if m.internal() && !slices.ContainsFunc(req.Terms, func(t Term) bool { return t.Field == "event.provider" }) {
		req.Terms = append(req.Terms, Term{Field: "event.provider", Values: []string{"p1", "p2"}}) // not the drop records
	}
	want := m.expect(req)
	var got []Record
	for pages := 0; ; pages++ {
		it, err := m.db.Find(ctx, req)
		if err != nil {
			rt.Fatalf("find: %v", err)
		}
		for it.Next() {
			got = append(got, *it.Record())
		}
		if it.Err() != nil {
			rt.Fatalf("find: %v", it.Err())
		}
		req.Cursor = it.Cursor()
		if req.Cursor == "" || pages > len(m.events) {
			break
		}
	}
	if len(got) != len(want) {
		rt.Fatalf("find %+v: got seqs %v, want %v", req, seqs(got), modelSeqs(want))
	}
	if n, err := m.db.Count(ctx, req); err != nil || n != len(want) {
		rt.Fatalf("count %+v = %d, %v; want %d", req, n, err, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.seq || !bytes.Equal(event.AppendJSON(nil, &g.Event), event.AppendJSON(nil, &w.ev)) {
			rt.Fatalf("find result %d: got seq %d %s, want seq %d %s", i, g.Seq, event.AppendJSON(nil, &g.Event), w.seq, event.AppendJSON(nil, &w.ev))
		}
	}
}

func modelSeqs(es []modelEvent) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.seq
	}
	return out
}

// expect is the model's answer: filter every event, sort by (instant, seq).
func (m *modelRun) expect(req FindRequest) []modelEvent {
	var out []modelEvent
	for _, me := range m.events {
		if m.live(&me.ev) && modelMatches(req, &me.ev) {
			out = append(out, me)
		}
	}
	slices.SortFunc(out, func(a, b modelEvent) int {
		c := a.ev.Timestamp.Time().Compare(b.ev.Timestamp.Time())
		if c == 0 {
			c = cmpUint(a.seq, b.seq)
		}
		if req.Order == Descending {
			return -c
		}
		return c
	})
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func modelMatches(req FindRequest, e *Event) bool {
	at := e.Timestamp.Time()
	if (!req.Start.IsZero() && at.Before(req.Start)) || (!req.End.IsZero() && at.After(req.End)) {
		return false
	}
	for _, t := range req.Terms {
		var vals []string
		switch t.Field {
		case "event.provider":
			vals = []string{e.Event.Provider}
		case "event.action":
			vals = []string{e.Event.Action}
		case "event.outcome":
			vals = []string{e.Event.Outcome}
		case "user.name":
			vals = []string{e.User.Name}
		case "tags":
			vals = e.Tags.Values
		default:
			panic(fmt.Sprintf("model: no field %s", t.Field))
		}
		if !slices.ContainsFunc(vals, func(v string) bool { return v != "" && slices.Contains(t.Values, v) }) {
			return false
		}
	}
	if r := req.SavedObjects; r != nil {
		space := r.Space
		if space == "" {
			space = "default"
		}
		return slices.ContainsFunc(e.Kibana.SavedObjects, func(so event.SavedObject) bool {
			ns := so.Namespace
			if ns == "" {
				ns = "default"
			}
			return so.Type == r.Type && slices.Contains(r.IDs, so.ID) && ns == space && (!r.PrimaryOnly || so.Rel == "primary")
		})
	}
	return true
}

// shortestAge is the shortest retention period in force (0: none).
func (m *modelRun) shortestAge() time.Duration {
	a := m.maxAge
	if m.failureAge > 0 && (a == 0 || m.failureAge < a) {
		a = m.failureAge
	}
	return a
}

// hold creates a hold, or checks that a bad one is refused. Its window
// starts no earlier than retention's cutoff: an event already expired may
// or may not be on disk still (the layout decides), so whether a hold
// brings it back is not the model's to say.
func (m *modelRun) hold(rt *rapid.T) {
	name := rapid.SampledFrom([]string{"h1", "h2", "h3"}).Draw(rt, "hold_name")
	text := genFilter(rt, rapid.IntRange(0, 2).Draw(rt, "hold_depth"))
	start, end := "", genTimeBound(rt, "hold_end")
	if rapid.Bool().Draw(rt, "hold_has_start") || m.shortestAge() > 0 {
		from := genTime(rt, "hold_start")
		if a := m.shortestAge(); a > 0 && from.Before(m.clock().Add(-a)) {
			from = m.clock().Add(-a)
		}
		start = from.Format(time.RFC3339Nano)
	}
	f, err := filter.Parse(text)
	if err != nil {
		rt.Fatalf("filter %q: %v", text, err)
	}
	lo, hi := m.bounds(rt, start, end)
	h, err := m.db.CreateHold(ctx, HoldRequest{Name: name, Filter: text, Start: start, End: end, Reason: "model"})
	switch exists := slices.ContainsFunc(m.holds, func(h modelHold) bool { return h.name == name }); {
	case len(f.KeptPaths()) > 0 || lo > hi:
		if !errors.Is(err, ErrInvalidRequest) {
			rt.Fatalf("hold %q %s..%s: %v, want ErrInvalidRequest", text, start, end, err)
		}
		return
	case exists:
		if !errors.Is(err, ErrHoldExists) {
			rt.Fatalf("hold %s twice: %v", name, err)
		}
		return
	case err != nil:
		rt.Fatalf("hold %q: %v", text, err)
	}
	m.holdsMade++
	m.holds = append(m.holds, modelHold{name: name, f: f, lo: lo, hi: hi, after: h.After})
}

// release releases a hold; the events only it kept from a delete go.
func (m *modelRun) release(rt *rapid.T) {
	name := rapid.SampledFrom([]string{"h1", "h2", "h3"}).Draw(rt, "release_name")
	i := slices.IndexFunc(m.holds, func(h modelHold) bool { return h.name == name })
	_, err := m.db.ReleaseHold(ctx, name)
	if i < 0 {
		if !errors.Is(err, ErrHoldNotFound) {
			rt.Fatalf("release of %s, not held: %v", name, err)
		}
		return
	}
	if err != nil {
		rt.Fatalf("release %s: %v", name, err)
	}
	m.holdsMade++ // the release's record
	m.holds = slices.Delete(m.holds, i, i+1)
	m.events = slices.DeleteFunc(m.events, func(me modelEvent) bool {
		return slices.ContainsFunc(me.blockedBy, func(d uint64) bool { return !m.held(&me.ev, d) })
	})
}
