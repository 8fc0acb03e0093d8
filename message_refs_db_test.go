package eventlog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
)

// TestMessageRefsThroughDB appends the same random events to two stores,
// whose messages repeat their own field values (whole, cut, several
// times, overlapping), NULs, bytes of 0x80 and above and other text, rolls
// them into segments at the same points, rewrites the first store's
// segments as format 8, and checks, before and after compaction (which
// merges format 8 inputs into format 9): every event reads back as
// appended (a plain model), queries on the message (words, phrases,
// prefixes, sorts and terms on it) and on other fields answer the same on
// both stores, and a term query on user.name finds exactly the model's
// events.
func TestMessageRefsThroughDB(t *testing.T) {
	base := t.TempDir()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		dirs := [2]string{filepath.Join(base, fmt.Sprint(run, "-v8")), filepath.Join(base, fmt.Sprint(run, "-v9"))}
		n := rapid.IntRange(1, 60).Draw(rt, "events")
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = mrDrawEvent(rt, i)
		}
		var rolls []int // roll after these events
		for i := range n {
			if rapid.IntRange(0, 6).Draw(rt, "roll") == 0 {
				rolls = append(rolls, i)
			}
		}
		rolls = append(rolls, n-1) // every event sealed
		model := map[uint64]string{}
		for k, dir := range dirs {
			db := mrOpen(rt, dir)
			for i := range evs {
				a, err := db.Append(ctx, evs[i])
				if err != nil {
					rt.Fatalf("append %d: %v", i, err)
				}
				if k == 0 {
					model[a.Seq(0)] = mrJSON(&evs[i])
				} else if model[a.Seq(0)] != mrJSON(&evs[i]) {
					rt.Fatalf("event %d took sequence %d on one store only", i, a.Seq(0))
				}
				if slices.Contains(rolls, i) {
					if err := db.Roll(ctx); err != nil {
						rt.Fatal(err)
					}
				}
			}
			if err := db.Close(); err != nil {
				rt.Fatal(err)
			}
		}
		mrRewriteSegments(rt, dirs[0], 8)
		dbs := [2]*DB{mrOpen(rt, dirs[0]), mrOpen(rt, dirs[1])}
		defer dbs[0].Close()
		defer dbs[1].Close()
		reqs := mrRequests(rt, evs)
		for _, phase := range []string{"before compaction", "after compaction"} {
			if phase == "after compaction" {
				for k, db := range dbs {
					res, err := db.Compact(ctx)
					if err != nil {
						rt.Fatal(err)
					}
					if v := mrVersions(rt, dbs[0]); k == 0 && res.Outputs > 0 && v[segment.Version] < res.Outputs {
						rt.Fatalf("%d merges wrote versions %v", res.Outputs, v)
					}
				}
			} else if v := mrVersions(rt, dbs[0]); len(v) != 1 || v[8] == 0 {
				rt.Fatalf("store 0 holds segment versions %v, want 8 only", v)
			}
			for k, db := range dbs {
				mrCheckModel(rt, db, model, fmt.Sprintf("%s, store %d", phase, k))
			}
			for _, req := range reqs {
				a, b := mrQuery(rt, dbs[0], req), mrQuery(rt, dbs[1], req)
				if a != b {
					rt.Fatalf("%s: %+v answers\n%s\non format 8 and\n%s\non format 9", phase, req, a, b)
				}
			}
			for _, name := range []string{"elastic", "bob", "élodie-admin"} {
				req := query.Request{Filter: fmt.Sprintf("user.name:%q", name), PerPage: 1000}
				var want []string
				for i := range evs {
					if evs[i].User.Name == name {
						want = append(want, mrJSON(&evs[i]))
					}
				}
				got := mrHits(rt, dbs[1], req)
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					rt.Fatalf("%s: %s found\n%q\nwant\n%q", phase, req.Filter, got, want)
				}
			}
		}
	})
}

func mrOpen(rt *rapid.T, dir string) *DB {
	db, err := Open(dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		rt.Fatalf("open %s: %v", dir, err)
	}
	return db
}

// mrWords are words messages and rule names share: queries look for them.
var mrWords = []string{"disk", "full", "timeout", "épée", "cpu", "high"}

// mrDrawEvent draws event i: a few String and IP fields and refs from
// small sets (so that rows share them), and a message made of pieces of
// them, words and odd bytes.
func mrDrawEvent(rt *rapid.T, i int) Event {
	var e Event
	d, err := event.ParseDate(time.Date(2024, 5, 1, 0, 0, rapid.IntRange(0, 600).Draw(rt, "second"), 0, time.UTC).Format(time.RFC3339))
	if err != nil {
		rt.Fatal(err)
	}
	e.Timestamp = d
	e.Event.Provider, e.Event.Action = "alerting", rapid.SampledFrom([]string{"execute", "active-instance"}).Draw(rt, "action")
	ids := []string{"9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "5b2de169-2785-441b-ae8c-186a1936b17d", "9a0a3de3-2aa2-4914"}
	var vals []string
	str := func(name string, from []string) {
		if rapid.Bool().Draw(rt, "has "+name) {
			v := rapid.SampledFrom(from).Draw(rt, name)
			*event.FieldByName(name).Str(&e) = v
			vals = append(vals, v)
		}
	}
	str("user.name", []string{"elastic", "bob", "élodie-admin"})
	str("rule.name", []string{"disk full", "cpu high", "disk full on épée", "cpu", "disk"})
	str("rule.id", ids)
	str("kibana.server_uuid", ids[1:])
	str("kibana.alerting.instance_id", []string{"host-1", "host-12", "host-1\u0080"})
	str("source.ip", []string{"10.0.0.1", "10.0.0.12", "::1"})
	str("error.code", []string{"ok", "timeout"})
	for j := range rapid.IntRange(0, 2).Draw(rt, "refs") {
		id := rapid.SampledFrom(ids).Draw(rt, "ref id")
		rel := ""
		if j == 0 {
			rel = event.RelPrimary
		}
		e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{Type: "alert", ID: id, Rel: rel})
		vals = append(vals, id)
	}
	var m strings.Builder
	for range rapid.IntRange(0, 8).Draw(rt, "pieces") {
		switch p := rapid.IntRange(0, 6).Draw(rt, "piece"); {
		case p == 0 && len(vals) > 0:
			m.WriteString(rapid.SampledFrom(vals).Draw(rt, "value"))
		case p == 1 && len(vals) > 0:
			r := []rune(rapid.SampledFrom(vals).Draw(rt, "value"))
			m.WriteString(string(r[:rapid.IntRange(0, len(r)).Draw(rt, "cut")]))
		case p == 2:
			m.WriteString(rapid.SampledFrom(mrWords).Draw(rt, "word"))
		case p == 3:
			m.WriteString(rapid.SampledFrom([]string{"\x00", "\u0080", "\u00ff", " ", "'", "\x00\u0080"}).Draw(rt, "odd"))
		default:
			m.WriteString(rapid.String().Draw(rt, "text"))
		}
		if rapid.Bool().Draw(rt, "space") {
			m.WriteByte(' ')
		}
	}
	e.Message = m.String()
	return e
}

// mrRequests draws queries on the message and on the fields it refers to.
func mrRequests(rt *rapid.T, evs []Event) []query.Request {
	atoms := []string{`message:disk`, `message:"disk full"`, `message:dis*`, `timeout`, `épée`, `message:"cpu high"`,
		`message:elastic`, `message:"host-1"`, `message:*`, `user.name:elastic`, `rule.name:"disk full"`,
		`kibana.saved_objects:{ id: "9a0a3de3-2aa2-4914-b84d-fef884dadc2f" }`, `source.ip:"10.0.0.1"`}
	var reqs []query.Request
	for range rapid.IntRange(3, 8).Draw(rt, "queries") {
		req := query.Request{PerPage: 1000}
		switch rapid.IntRange(0, 2).Draw(rt, "shape") {
		case 0:
			req.Filter = rapid.SampledFrom(atoms).Draw(rt, "atom")
		case 1:
			req.Filter = rapid.SampledFrom(atoms).Draw(rt, "a") + " and not " + rapid.SampledFrom(atoms).Draw(rt, "b")
		}
		if rapid.Bool().Draw(rt, "sort by message") {
			req.Sort = []query.SortField{{Field: "message", Order: rapid.SampledFrom([]string{"asc", "desc"}).Draw(rt, "order")}}
		}
		if rapid.Bool().Draw(rt, "terms") {
			req.Aggs = map[string]query.Agg{"m": {Terms: &query.TermsAgg{Field: "message", Size: 5}}}
		}
		reqs = append(reqs, req)
	}
	return reqs
}

// mrQuery is a query's whole answer as text.
func mrQuery(rt *rapid.T, db *DB, req query.Request) string {
	res, err := db.Query(ctx, req)
	if err != nil {
		rt.Fatalf("query %+v: %v", req, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "total %d\n", res.Total)
	for _, h := range res.Hits {
		fmt.Fprintf(&b, "%d %s\n", h.Seq, mrJSON(&h.Event))
	}
	aggs, err := json.Marshal(res.Aggregations)
	if err != nil {
		rt.Fatal(err)
	}
	b.Write(aggs)
	return b.String()
}

// mrHits are the events a query finds, as JSON.
func mrHits(rt *rapid.T, db *DB, req query.Request) []string {
	res, err := db.Query(ctx, req)
	if err != nil {
		rt.Fatalf("query %+v: %v", req, err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, mrJSON(&h.Event))
	}
	return out
}

// mrCheckModel checks that db holds exactly the model's events.
func mrCheckModel(rt *rapid.T, db *DB, model map[uint64]string, what string) {
	got := map[uint64]string{}
	err := db.Export(ctx, query.Request{}, func(h query.Hit) error {
		got[h.Seq] = mrJSON(&h.Event)
		return nil
	})
	if err != nil {
		rt.Fatalf("%s: export: %v", what, err)
	}
	if len(got) != len(model) {
		rt.Fatalf("%s: %d events, want %d", what, len(got), len(model))
	}
	for seq, want := range model {
		if got[seq] != want {
			rt.Fatalf("%s: event %d reads\n%s\nwant\n%s", what, seq, got[seq], want)
		}
	}
}

// mrJSON is an event's JSON.
func mrJSON(e *Event) string { return string(event.AppendJSON(nil, e)) }

// mrVersions counts db's live segments by format version.
func mrVersions(rt *rapid.T, db *DB) map[int]int {
	out := map[int]int{}
	for _, s := range db.Segments() {
		r, err := segment.Open(filepath.Join(db.segDir(), s.Name), segment.OpenOptions{})
		if err != nil {
			rt.Fatal(err)
		}
		out[r.Info().Version]++
		r.Close()
	}
	return out
}

// mrRewriteSegments rewrites every segment of the closed store in dir as
// a file of format version of the same rows, and its manifest entry's
// size.
func mrRewriteSegments(rt *rapid.T, dir string, version int) {
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		rt.Fatal(err)
	}
	for i, meta := range m.Segments {
		path := filepath.Join(dir, "segments", meta.Name)
		r, err := segment.Open(path, segment.OpenOptions{})
		if err != nil {
			rt.Fatal(err)
		}
		var rows []segment.Row
		for bi, b := range r.Blocks() {
			_, seqs, err := r.Keys(bi)
			if err != nil {
				rt.Fatal(err)
			}
			want := make([]uint32, b.Rows)
			for k := range want {
				want[k] = b.FirstRow + uint32(k)
			}
			evs, err := r.Events(want)
			if err != nil {
				rt.Fatal(err)
			}
			for k := range evs {
				rows = append(rows, segment.Row{Seq: seqs[k], Event: &evs[k]})
			}
		}
		r.Close()
		if err := os.Remove(path); err != nil {
			rt.Fatal(err)
		}
		info, err := segment.Write(path, rows, segment.WriteOptions{Version: version})
		if err != nil {
			rt.Fatal(err)
		}
		m.Segments[i].Bytes = info.FileBytes
	}
	if err := writeManifest(vfs.OS{}, dir, m); err != nil {
		rt.Fatal(err)
	}
}
