package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
)

// Explicit tests of DB.Query, DB.Aggregate and DB.Export against expectations
// computed by hand or by the small helpers below (TestModel covers random
// requests; these pin down the documented behaviour case by case).

// qEpoch is the fixed clock of these tests.
var qEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func openQueryDB(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, Sync: SyncNone, Now: func() time.Time { return qEpoch }})
}

// qEvent is an event of provider p stamped at; dur < 0 leaves
// event.duration out.
func qEvent(action string, at time.Time, dur int64) Event {
	var e Event
	e.Event.Provider, e.Event.Action = "p", action
	d, err := event.ParseDate(at.UTC().Format(time.RFC3339Nano)) // DateOf keeps only milliseconds
	if err != nil {
		panic(err)
	}
	e.Timestamp = d
	if dur >= 0 {
		e.Event.Duration = &event.Duration{Nanos: dur}
	}
	return e
}

// qRow is an appended event as the test knows it.
type qRow struct {
	seq uint64
	ev  Event
}

func qAppend(t testing.TB, db *DB, evs ...Event) []qRow {
	t.Helper()
	res, err := db.Append(ctx, evs...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	rows := make([]qRow, len(evs))
	for i, e := range evs {
		rows[i] = qRow{res.Seq(i), e}
	}
	return rows
}

func qRoll(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Roll(ctx); err != nil {
		t.Fatalf("roll: %v", err)
	}
}

func mustQuery(t testing.TB, db *DB, req query.Request) *query.Result {
	t.Helper()
	res, err := db.Query(ctx, req)
	if err != nil {
		t.Fatalf("query %+v: %v", req, err)
	}
	return res
}

// qWalk pages through req with search_after.
func qWalk(t testing.TB, db *DB, req query.Request) []query.Hit {
	t.Helper()
	var out []query.Hit
	for range 100_000 {
		res := mustQuery(t, db, req)
		out = append(out, res.Hits...)
		if res.Next == "" {
			return out
		}
		req.SearchAfter = res.Next
	}
	t.Fatalf("walk %+v does not end", req)
	return nil
}

func hitSeqs(hits []query.Hit) []uint64 {
	out := make([]uint64, len(hits))
	for i, h := range hits {
		out[i] = h.Seq
	}
	return out
}

// qSortKey is e's value of a sort field; has is false when it is missing.
func qSortKey(e *Event, field string) (has bool, n int64, s string) {
	switch field {
	case "@timestamp":
		return true, e.Timestamp.UnixNano(), ""
	case "event.duration":
		if e.Event.Duration != nil {
			return true, e.Event.Duration.Nanos, ""
		}
		return false, 0, ""
	case "event.action":
		return e.Event.Action != "", 0, e.Event.Action
	}
	panic("qSortKey: no field " + field)
}

// qCompare orders two events as the documented sort does: by each key
// (missing lowest), then by sequence in the direction of the first key.
func qCompare(keys []query.SortField, a *Event, aseq uint64, b *Event, bseq uint64) int {
	if len(keys) == 0 {
		keys = []query.SortField{{Field: "@timestamp"}}
	}
	for _, k := range keys {
		ha, na, sa := qSortKey(a, k.Field)
		hb, nb, sb := qSortKey(b, k.Field)
		c := cmp.Or(cmp.Compare(btoi(ha), btoi(hb)), cmp.Compare(na, nb), strings.Compare(sa, sb))
		if k.Order == "desc" {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	if keys[0].Order == "desc" {
		return cmp.Compare(bseq, aseq)
	}
	return cmp.Compare(aseq, bseq)
}

// qSorted is the seqs of rows in the order of keys.
func qSorted(rows []qRow, keys ...query.SortField) []uint64 {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b qRow) int { return qCompare(keys, &a.ev, a.seq, &b.ev, b.seq) })
	out := make([]uint64, len(rows))
	for i, r := range rows {
		out[i] = r.seq
	}
	return out
}

// qRandomEvents draws n events within ten minutes before qEpoch, with many
// equal timestamps and durations and some without a duration or action.
func qRandomEvents(rng *rand.Rand, n int) []Event {
	out := make([]Event, n)
	for i := range out {
		dur := int64(rng.IntN(12)) - 1
		action := []string{"", "a", "b", "c"}[rng.IntN(4)]
		out[i] = qEvent(action, qEpoch.Add(-time.Duration(rng.IntN(600))*time.Second), dur)
	}
	return out
}

func TestQueryTimeForms(t *testing.T) {
	db := openQueryDB(t)
	now := qEpoch
	at := []time.Time{
		now.Add(-8 * 24 * time.Hour), now.Add(-7 * 24 * time.Hour), // 0, 1
		now.Add(-2*time.Hour - 1), now.Add(-2 * time.Hour), // 2, 3
		now.Add(-30*time.Minute + 500*time.Millisecond - 1), now.Add(-30*time.Minute + 500*time.Millisecond), // 4, 5
		now.Add(-15 * time.Minute), now.Add(-15*time.Minute + 1), // 6, 7
		now, now.Add(1), now.Add(time.Hour), // 8, 9, 10
	}
	var rows []qRow
	for i, a := range at {
		rows = append(rows, qAppend(t, db, qEvent("a", a, -1))...)
		if i == 4 {
			qRoll(t, db)
		}
	}
	cases := []struct {
		start, end string
		want       []int
	}{
		{"2024-05-01T10:00:00Z", "2024-05-01T11:45:00Z", []int{3, 4, 5, 6}},
		{"2024-05-01T12:00:00+02:00", "2024-05-01T13:45:00+02:00", []int{3, 4, 5, 6}},
		{"2024-05-01T11:30:00.5Z", "2024-05-01T13:45:00.000000001+02:00", []int{5, 6, 7}},
		{"2024-05-01T05:30:00.500-06:00", "now", []int{5, 6, 7, 8}},
		{"now-15m", "now", []int{6, 7, 8}},
		{"15m", "now", []int{6, 7, 8}},
		{"2h", "now-15m", []int{3, 4, 5, 6}},
		{"7d", "2h", []int{1, 2, 3}},
		{"now", "now+1h", []int{8, 9, 10}},
		{"now", "now", []int{8}},
		{"", "now-7d", []int{0, 1}},
		{"2024-05-01T12:00:00.000000001Z", "", []int{9, 10}},
		{"", "", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
	for _, c := range cases {
		t.Run(c.start+".."+c.end, func(t *testing.T) {
			res := mustQuery(t, db, query.Request{Start: c.start, End: c.end, PerPage: 100})
			var want []uint64
			for _, i := range c.want {
				want = append(want, rows[i].seq)
			}
			if got := hitSeqs(res.Hits); !slices.Equal(got, want) || res.Total != len(want) {
				t.Fatalf("got seqs %v (total %d), want %v", got, res.Total, want)
			}
		})
	}
	bad := []struct{ start, end, value string }{
		{"yesterday", "", "yesterday"},
		{"", "2024-05-01T25:00:00Z", "2024-05-01T25:00:00Z"},
		{"now-15q", "now", "now-15q"},
		{"", "15", "15"},
		{"2024-05-01 10:00:00Z", "", "2024-05-01 10:00:00Z"},
		{"now*2", "", "now*2"},
	}
	for _, b := range bad {
		_, err := db.Query(ctx, query.Request{Start: b.start, End: b.end})
		side := "start"
		if b.start == "" {
			side = "end"
		}
		if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), b.value) || !strings.Contains(err.Error(), side) {
			t.Errorf("start %q end %q: err = %v, want ErrInvalidRequest naming %s %q", b.start, b.end, err, side, b.value)
		}
	}
	if _, err := db.Query(ctx, query.Request{Start: "now", End: "15m"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("start after end: err = %v, want ErrInvalidRequest", err)
	}
}

// qAppender appends a batch each time it is ticked until tick is closed:
// one event older than every other, one newer, one among them, so some
// land before a walk's cursor and some after. Every fifth batch it rolls.
func qAppender(t *testing.T, db *DB, tick <-chan struct{}, done chan<- []qRow) {
	rng := rand.New(rand.NewPCG(7, 8))
	var added []qRow
	for i := 0; ; i++ {
		if _, ok := <-tick; !ok {
			done <- added
			return
		}
		batch := []Event{
			qEvent("old", qEpoch.Add(-time.Hour-time.Duration(i)*time.Second), -1),
			qEvent("new", qEpoch.Add(time.Hour+time.Duration(i)*time.Second), 1000+int64(i)),
		}
		batch = append(batch, qRandomEvents(rng, 1)...)
		res, err := db.Append(ctx, batch...)
		if err != nil {
			t.Errorf("concurrent append: %v", err)
			continue
		}
		for j, e := range batch {
			added = append(added, qRow{res.Seq(j), e})
		}
		if i%5 == 4 {
			if err := db.Roll(ctx); err != nil {
				t.Errorf("concurrent roll: %v", err)
			}
		}
	}
}

// qWalkAppending walks req with search_after while qAppender appends.
func qWalkAppending(t *testing.T, db *DB, req query.Request) (hits []query.Hit, added []qRow, err error) {
	tick, done := make(chan struct{}, 1), make(chan []qRow)
	go qAppender(t, db, tick, done)
	for pages := 0; ; pages++ {
		var res *query.Result
		if res, err = db.Query(ctx, req); err != nil || pages > 10_000 {
			err = cmp.Or(err, errors.New("walk does not end"))
			break
		}
		hits = append(hits, res.Hits...)
		select { // the append runs while the next page is read
		case tick <- struct{}{}:
		default:
		}
		if res.Next == "" {
			break
		}
		req.SearchAfter = res.Next
	}
	close(tick)
	return hits, <-done, err
}

func TestQueryCursorWhileAppending(t *testing.T) {
	sorts := map[string][]query.SortField{
		"timestamp asc":  {{Field: "@timestamp"}},
		"timestamp desc": {{Field: "@timestamp", Order: "desc"}},
		"duration asc":   {{Field: "event.duration"}},
		"duration desc":  {{Field: "event.duration", Order: "desc"}},
	}
	for name, keys := range sorts {
		t.Run(name, func(t *testing.T) {
			db := openQueryDB(t)
			rng := rand.New(rand.NewPCG(1, 2))
			rows := qAppend(t, db, qRandomEvents(rng, 200)...)
			qRoll(t, db)
			rows = append(rows, qAppend(t, db, qRandomEvents(rng, 100)...)...)
			want := qSorted(rows, keys...)
			hits, added, err := qWalkAppending(t, db, query.Request{Sort: keys, PerPage: 7})
			if err != nil {
				t.Fatalf("walk: %v", err)
			}
			if len(added) == 0 {
				t.Fatal("nothing was appended during the walk")
			}
			known := map[uint64]bool{}
			for _, r := range append(rows, added...) {
				known[r.seq] = true
			}
			seen := map[uint64]bool{}
			var initial []uint64
			for i, h := range hits {
				if seen[h.Seq] || !known[h.Seq] {
					t.Fatalf("hit %d: seq %d repeated or never appended", i, h.Seq)
				}
				seen[h.Seq] = true
				if i > 0 && qCompare(keys, &hits[i-1].Event, hits[i-1].Seq, &h.Event, h.Seq) >= 0 {
					t.Fatalf("hit %d (seq %d) is not after hit %d (seq %d)", i, h.Seq, i-1, hits[i-1].Seq)
				}
				if h.Seq <= rows[len(rows)-1].seq {
					initial = append(initial, h.Seq)
				}
			}
			if !slices.Equal(initial, want) {
				t.Fatalf("events present before the walk: got %d %v, want %d %v", len(initial), initial, len(want), want)
			}
		})
	}
}

func TestQueryPagesAreSlicesOfOneQuery(t *testing.T) {
	db := openQueryDB(t)
	rng := rand.New(rand.NewPCG(3, 4))
	rows := qAppend(t, db, qRandomEvents(rng, 60)...)
	qRoll(t, db)
	rows = append(rows, qAppend(t, db, qRandomEvents(rng, 35)...)...)
	for _, keys := range [][]query.SortField{nil, {{Field: "@timestamp", Order: "desc"}}, {{Field: "event.duration"}}} {
		all := mustQuery(t, db, query.Request{Sort: keys, PerPage: 1000})
		if got, want := hitSeqs(all.Hits), qSorted(rows, keys...); !slices.Equal(got, want) {
			t.Fatalf("sort %v: got %v, want %v", keys, got, want)
		}
		for _, per := range []int{1, 7, 10, 50} {
			for page := 1; (page-1)*per <= len(rows); page++ {
				res := mustQuery(t, db, query.Request{Sort: keys, Page: page, PerPage: per})
				lo := (page - 1) * per
				want := hitSeqs(all.Hits[lo:min(lo+per, len(rows))])
				if got := hitSeqs(res.Hits); !slices.Equal(got, want) || res.Total != len(rows) || res.Page != page || res.PerPage != per {
					t.Fatalf("sort %v page %d per_page %d: got %v total %d (%d/%d), want %v total %d", keys, page, per, got, res.Total, res.Page, res.PerPage, want, len(rows))
				}
			}
		}
	}
}

func TestQueryWindowCap(t *testing.T) {
	db := openQueryDB(t)
	const n = query.MaxWindow + 50
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = qEvent("a", qEpoch.Add(time.Duration(i)*time.Millisecond), -1)
	}
	rows := qAppend(t, db, evs...)
	full := mustQuery(t, db, query.Request{Page: 1, PerPage: query.MaxWindow})
	if len(full.Hits) != query.MaxWindow || full.Total != n || full.Hits[0].Seq != rows[0].seq || full.Hits[query.MaxWindow-1].Seq != rows[query.MaxWindow-1].seq || full.Next == "" {
		t.Fatalf("per_page %d: %d hits, total %d, next %q", query.MaxWindow, len(full.Hits), full.Total, full.Next)
	}
	rest := mustQuery(t, db, query.Request{PerPage: query.MaxWindow, SearchAfter: full.Next})
	if len(rest.Hits) != 50 || rest.Hits[0].Seq != rows[query.MaxWindow].seq || rest.Next != "" {
		t.Fatalf("after the cap: %d hits from seq %d, next %q", len(rest.Hits), rest.Hits[0].Seq, rest.Next)
	}
	if res := mustQuery(t, db, query.Request{Page: query.MaxWindow, PerPage: 1}); len(res.Hits) != 1 || res.Hits[0].Seq != rows[query.MaxWindow-1].seq {
		t.Fatalf("page %d per_page 1: %v", query.MaxWindow, hitSeqs(res.Hits))
	}
	cases := []struct{ page, perPage int }{{2, 5001}, {101, 100}, {query.MaxWindow + 1, 1}, {1, query.MaxWindow + 1}, {2, query.MaxWindow}}
	for _, c := range cases {
		_, err := db.Query(ctx, query.Request{Page: c.page, PerPage: c.perPage})
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("page %d per_page %d: err = %v, want ErrInvalidRequest", c.page, c.perPage, err)
			continue
		}
		if c.perPage <= query.MaxWindow && !strings.Contains(err.Error(), "search_after") {
			t.Errorf("page %d per_page %d: %v does not point to search_after", c.page, c.perPage, err)
		}
	}
}

func TestQuerySortTiesAcrossSegments(t *testing.T) {
	db := openQueryDB(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []qRow
	for i := range 3 {
		rows = append(rows, qAppend(t, db, qRandomEvents(rng, 40)...)...)
		if i < 2 {
			qRoll(t, db)
		}
	}
	if s := db.Stats(); s.SegmentEvents != 80 || s.HeadEvents != 40 {
		t.Fatalf("layout: %d events in segments, %d in the head; want 80 and 40", s.SegmentEvents, s.HeadEvents)
	}
	for _, field := range []string{"event.duration", "event.action"} {
		asc := mustQuery(t, db, query.Request{Sort: []query.SortField{{Field: field}}, PerPage: 1000}).Hits
		desc := mustQuery(t, db, query.Request{Sort: []query.SortField{{Field: field, Order: "desc"}}, PerPage: 1000}).Hits
		if got, want := hitSeqs(asc), qSorted(rows, query.SortField{Field: field}); !slices.Equal(got, want) {
			t.Fatalf("%s asc: got %v, want %v", field, got, want)
		}
		rev := hitSeqs(desc)
		slices.Reverse(rev)
		if !slices.Equal(rev, hitSeqs(asc)) {
			t.Fatalf("%s: desc %v is not the reverse of asc %v", field, hitSeqs(desc), hitSeqs(asc))
		}
		missing := 0
		for _, r := range rows {
			if has, _, _ := qSortKey(&r.ev, field); !has {
				missing++
			}
		}
		for i, h := range asc {
			has, v, s := qSortKey(&h.Event, field)
			if has != (i >= missing) {
				t.Fatalf("%s asc: hit %d has the field %v; %d events lack it and sort first", field, i, has, missing)
			}
			if i > 0 {
				ph, pv, ps := qSortKey(&asc[i-1].Event, field)
				if ph == has && pv == v && ps == s && asc[i-1].Seq >= h.Seq {
					t.Fatalf("%s asc: tie at hits %d,%d not broken by ascending seq (%d, %d)", field, i-1, i, asc[i-1].Seq, h.Seq)
				}
			}
		}
		walked := qWalk(t, db, query.Request{Sort: []query.SortField{{Field: field, Order: "desc"}}, PerPage: 4})
		if !slices.Equal(hitSeqs(walked), hitSeqs(desc)) {
			t.Fatalf("%s desc: a search_after walk %v differs from one page %v", field, hitSeqs(walked), hitSeqs(desc))
		}
	}
	for _, keys := range [][]query.SortField{
		{{Field: "event.action"}, {Field: "event.duration", Order: "desc"}},
		{{Field: "event.duration", Order: "desc"}, {Field: "event.action"}},
	} {
		got := hitSeqs(mustQuery(t, db, query.Request{Sort: keys, PerPage: 1000}).Hits)
		if want := qSorted(rows, keys...); !slices.Equal(got, want) {
			t.Fatalf("sort %v: got %v, want %v", keys, got, want)
		}
	}
}

func TestQuerySpaceAndPrimaryScope(t *testing.T) {
	db := openQueryDB(t)
	qRef := func(rel, ns, typ, id string) event.SavedObject {
		return event.SavedObject{Rel: rel, Namespace: ns, Type: typ, ID: id}
	}
	refs := [][]event.SavedObject{
		{qRef("primary", "", "alert", "A")},        // 0: default space
		{qRef("primary", "default", "alert", "A")}, // 1: default, named
		{qRef("primary", "s1", "alert", "A")},      // 2
		{qRef("", "", "alert", "A")},               // 3: not primary
		{qRef("primary", "", "alert", "B")},        // 4
		{qRef("primary", "", "action", "A")},       // 5: another type
		nil,                                        // 6: space_ids s1
		nil,                                        // 7: space_ids s2
		{qRef("", "s2", "action", "X")},            // 8: a non-primary ref in s2
		{qRef("", "", "alert", "A"), qRef("primary", "s1", "alert", "A")}, // 9
		nil, // 10: no space at all
	}
	spaceIDs := map[int]string{6: "s1", 7: "s2"}
	var seqs []uint64
	for i, r := range refs {
		e := qEvent("a", qEpoch.Add(time.Duration(i)*time.Second), -1)
		e.Kibana.SavedObjects = r
		if s, ok := spaceIDs[i]; ok {
			e.Kibana.SpaceIDs = event.Strings(s)
		}
		seqs = append(seqs, qAppend(t, db, e)[0].seq)
		if i == 4 {
			qRoll(t, db)
		}
	}
	so := func(typ, space string, ids ...string) *query.SavedObjects {
		return &query.SavedObjects{Type: typ, IDs: ids, Space: space}
	}
	cases := map[string]struct {
		req  query.Request
		want []int
	}{
		"alert A":                   {query.Request{SavedObjects: so("alert", "", "A")}, []int{0, 1}},
		"alert A default":           {query.Request{SavedObjects: so("alert", "default", "A")}, []int{0, 1}},
		"alert A s1":                {query.Request{SavedObjects: so("alert", "s1", "A")}, []int{2, 9}},
		"alert A,B":                 {query.Request{SavedObjects: so("alert", "", "A", "B")}, []int{0, 1, 4}},
		"action A":                  {query.Request{SavedObjects: so("action", "", "A")}, []int{5}},
		"action X s2 (not primary)": {query.Request{SavedObjects: so("action", "s2", "X")}, nil},
		"space default":             {query.Request{Space: "default"}, []int{0, 1, 3, 4, 5, 9, 10}}, // 10 has no space: default
		"space s1":                  {query.Request{Space: "s1"}, []int{2, 6, 9}},
		"space s2":                  {query.Request{Space: "s2"}, []int{7, 8}},
		"space s3":                  {query.Request{Space: "s3"}, nil},
		"alert A s1 in default":     {query.Request{SavedObjects: so("alert", "s1", "A"), Space: "default"}, []int{9}},
		"alert A default in s1":     {query.Request{SavedObjects: so("alert", "", "A"), Space: "s1"}, nil},
		"space s1 with a filter":    {query.Request{Space: "s1", Filter: "kibana.saved_objects:*"}, []int{2, 9}},
		"alert A s1 with a filter":  {query.Request{SavedObjects: so("alert", "s1", "A"), Filter: "not kibana.saved_objects.rel:primary"}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.req.PerPage = 100
			res := mustQuery(t, db, c.req)
			want := []uint64{}
			for _, i := range c.want {
				want = append(want, seqs[i])
			}
			if got := hitSeqs(res.Hits); !slices.Equal(got, want) || res.Total != len(want) {
				t.Fatalf("got %v (total %d), want %v", got, res.Total, want)
			}
		})
	}
	for _, bad := range []*query.SavedObjects{so("", "", "A"), so("alert", "")} {
		if _, err := db.Query(ctx, query.Request{SavedObjects: bad}); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("saved objects %+v: err = %v, want ErrInvalidRequest", bad, err)
		}
	}
}

func TestQueryFilterErrors(t *testing.T) {
	db := openQueryDB(t)
	qAppend(t, db, qEvent("a", qEpoch, 1))
	cases := []struct {
		filter string
		pos    int
		msg    []string // fragments of the message after the position
	}{
		{`event.action:`, 14, []string{"value"}},
		{`event.action:(execute or start`, 14, []string{"never closed"}},
		{`event.action:a event.outcome:b`, 16, []string{"'and' or 'or'"}},
		{`event.action:"abc`, 14, []string{"unterminated"}},
		{`event.duration >= abc`, 19, []string{"abc"}},
		{`event.action:ex*ecute`, 16, []string{"wildcard"}},
		{`event.action.x:execute`, 1, []string{`unknown field`, "event.action.x", "nearest", "event.action"}},
		{`tags:a and user.name.first:b`, 12, []string{`unknown field`, "user.name.first", "nearest", "user.name"}},
	}
	for _, c := range cases {
		_, err := db.Query(ctx, query.Request{Filter: c.filter})
		var fe *filter.Error
		if !errors.Is(err, ErrInvalidRequest) || !errors.As(err, &fe) {
			t.Errorf("filter %q: err = %v, want ErrInvalidRequest with a *filter.Error", c.filter, err)
			continue
		}
		prefix := fmt.Sprintf("filter: at %d: ", c.pos)
		if fe.Pos != c.pos || !strings.Contains(err.Error(), prefix) {
			t.Errorf("filter %q: %v; want it at %d (%q)", c.filter, err, c.pos, prefix)
		}
		for _, m := range c.msg {
			if !strings.Contains(fe.Msg, m) {
				t.Errorf("filter %q: message %q lacks %q", c.filter, fe.Msg, m)
			}
		}
	}
}

func TestQueryExportWalksEveryMatch(t *testing.T) {
	db := openQueryDB(t)
	rng := rand.New(rand.NewPCG(9, 10))
	// Two of every three events match: 1.5 pages of Export's, split
	// between a segment and the head.
	n := 9 * ExportPage / 4
	evs := qRandomEvents(rng, n)
	for i := range evs {
		evs[i].Event.Action = "start"
		if i%3 != 0 {
			evs[i].Event.Action = "execute"
		}
	}
	rows := qAppend(t, db, evs[:n/2]...)
	qRoll(t, db)
	rows = append(rows, qAppend(t, db, evs[n/2:]...)...)
	var matches []qRow
	for _, r := range rows {
		if r.ev.Event.Action == "execute" {
			matches = append(matches, r)
		}
	}
	if len(matches) != n-(n+2)/3 || len(matches) <= ExportPage {
		t.Fatalf("%d matches of %d events", len(matches), n)
	}
	for _, keys := range [][]query.SortField{nil, {{Field: "@timestamp", Order: "desc"}}, {{Field: "event.duration"}}} {
		req := query.Request{Filter: "event.action:execute", Sort: keys, Page: 3, PerPage: 5}
		var exported []uint64
		if err := db.Export(ctx, req, func(h query.Hit) error { exported = append(exported, h.Seq); return nil }); err != nil {
			t.Fatalf("export %v: %v", keys, err)
		}
		if want := qSorted(matches, keys...); !slices.Equal(exported, want) {
			t.Fatalf("export %v: got %d events, want %d in order", keys, len(exported), len(want))
		}
		var paged []uint64
		var pagedHits []query.Hit
		for page := 1; page <= (len(matches)+99)/100; page++ {
			res := mustQuery(t, db, query.Request{Filter: req.Filter, Sort: keys, Page: page, PerPage: 100})
			paged = append(paged, hitSeqs(res.Hits)...)
			pagedHits = append(pagedHits, res.Hits...)
		}
		if !slices.Equal(exported, paged) {
			t.Fatalf("export %v differs from the concatenated pages", keys)
		}
		// ExportHits gives the same hits in place: copies of them, taken
		// in fn, equal the pages' events.
		var inPlace []query.Hit
		if err := db.ExportHits(ctx, req, func(h *query.Hit) error { inPlace = append(inPlace, *h); return nil }); err != nil {
			t.Fatalf("export hits %v: %v", keys, err)
		}
		if len(inPlace) != len(pagedHits) {
			t.Fatalf("export hits %v: %d hits, want %d", keys, len(inPlace), len(pagedHits))
		}
		for i := range inPlace {
			if inPlace[i].Seq != pagedHits[i].Seq || !reflect.DeepEqual(inPlace[i].Event, pagedHits[i].Event) {
				t.Fatalf("export hits %v: hit %d is _seq %d %+v, want _seq %d %+v", keys, i,
					inPlace[i].Seq, inPlace[i].Event, pagedHits[i].Seq, pagedHits[i].Event)
			}
		}
	}
	errStop := errors.New("stop")
	calls := 0
	err := db.Export(ctx, query.Request{Filter: "event.action:execute"}, func(query.Hit) error {
		if calls++; calls == 1500 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 1500 {
		t.Fatalf("export stopped by fn: err = %v after %d calls, want errStop after 1500", err, calls)
	}
}
