package tiering_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/tiering"
)

// genStart is the first @timestamp of the generated events; at genRate
// events a second a segment of 10,000 spans about 17 minutes.
var genStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const genRate = 10

// appendGenerated appends n events of the realistic generator (from
// event index w.seq on) and seals them into a segment.
func (w *writer) appendGenerated(g *bench.Generator, n int) []event.Event {
	w.t.Helper()
	evs := make([]event.Event, n)
	g.Fill(evs)
	for i := 0; i < n; i += 1000 {
		if _, err := w.db.Append(context.Background(), evs[i:min(i+1000, n)]...); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.db.Roll(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.seq += n
	return evs
}

// tiered is a writer that published segments of generated events.
type tiered struct {
	w   *writer
	m   *tiering.BucketManifest
	evs []event.Event
}

// newTiered writes segs segments of perSeg generated events to a store
// tiered to s and waits for their manifest.
func newTiered(t *testing.T, s objstore.Store, segs, perSeg int, grace time.Duration) *tiered {
	t.Helper()
	w := openWriter(t, t.TempDir(), s, grace)
	g := bench.NewGenerator(bench.GeneratorConfig{Start: genStart, Rate: genRate})
	var evs []event.Event
	for range segs {
		evs = append(evs, w.appendGenerated(g, perSeg)...)
	}
	w.waitPublished()
	return &tiered{w: w, m: latest(t, s), evs: evs}
}

// localReaders opens the writer's own files of the segments m names: the
// answers before any eviction.
func (tr *tiered) localReaders(t testing.TB, m *tiering.BucketManifest) []*segment.Reader {
	t.Helper()
	var rs []*segment.Reader
	for _, o := range m.Segments {
		r, err := segment.Open(filepath.Join(tr.w.dir, "segments", o.Name), segment.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rs = append(rs, r)
	}
	return rs
}

// queryNow is the clock relative times resolve against.
var queryNow = genStart.Add(24 * time.Hour)

// answer runs req over readers (a snapshot of sealed segments up to
// maxSeq) and returns the result as JSON.
func answer(readers []*segment.Reader, maxSeq uint64, req query.Request) (string, error) {
	srcs := make([]query.Source, len(readers))
	for i, r := range readers {
		srcs[i] = r
	}
	res, err := query.Execute(context.Background(), query.Snapshot{Sources: srcs, MaxSeq: maxSeq}, req, query.Options{Now: queryNow})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(res)
	return string(b), err
}

// vocabulary holds values of the generated events' fields, to draw
// filters that match.
type vocabulary struct {
	actions, providers, outcomes, users []string
	minTS, maxTS                        time.Time
}

func vocabularyOf(evs []event.Event) vocabulary {
	var v vocabulary
	seen := map[string]bool{}
	add := func(list *[]string, field, val string) {
		if val != "" && !seen[field+val] {
			seen[field+val] = true
			*list = append(*list, val)
		}
	}
	v.minTS, v.maxTS = evs[0].Timestamp.Time(), evs[0].Timestamp.Time()
	for i := range evs {
		e := &evs[i]
		add(&v.actions, "a", e.Event.Action)
		add(&v.providers, "p", e.Event.Provider)
		add(&v.outcomes, "o", e.Event.Outcome)
		add(&v.users, "u", e.User.Name)
		ts := e.Timestamp.Time()
		if ts.Before(v.minTS) {
			v.minTS = ts
		}
		if ts.After(v.maxTS) {
			v.maxTS = ts
		}
	}
	return v
}
