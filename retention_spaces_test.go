package eventlog

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// spacedEvent is a generated event: its age in days and where it is.
type spacedEvent struct {
	ageDays    int
	namespaces []string // one ref per entry; "" is a ref without one
	spaceIDs   []string
}

// modelSpaces is an event's spaces, computed from its parts as the
// README states the rule (not through event.Event.Spaces).
func (s spacedEvent) modelSpaces() []string {
	var out []string
	for _, ns := range s.namespaces {
		if ns == "" {
			ns = event.DefaultSpace
		}
		out = append(out, ns)
	}
	out = append(out, s.spaceIDs...)
	if len(out) == 0 {
		out = []string{event.DefaultSpace}
	}
	return out
}

// modelKept says whether the event is kept at now: some space of it (its
// own period, or the store's) keeps it.
func modelKept(s spacedEvent, defaultDays int, spaceDays map[string]int) bool {
	for _, sp := range s.modelSpaces() {
		days, ok := spaceDays[sp]
		if !ok {
			days = defaultDays
		}
		if days == 0 || s.ageDays < days {
			return true
		}
	}
	return false
}

// Per-space retention against a model: after any policy, the events a
// query returns are those the model keeps, before and after retention
// drops segments.
func TestRetentionPerSpaceModel(t *testing.T) {
	spaces := []string{"default", "team-a", "team-b", "ops"}
	now := time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)
	rapid.Check(t, func(rt *rapid.T) {
		defaultDays := rapid.SampledFrom([]int{0, 3, 10}).Draw(rt, "default days")
		spaceDays := map[string]int{}
		for _, sp := range spaces {
			if rapid.Bool().Draw(rt, "has period "+sp) {
				spaceDays[sp] = rapid.SampledFrom([]int{0, 1, 5, 20}).Draw(rt, "days "+sp)
			}
		}
		opts := Options{AllowUnregistered: true, MaintenanceInterval: -1, Sync: SyncNone, Now: func() time.Time { return now },
			RetentionMaxAge: days(defaultDays), RetentionSpaceMaxAge: map[string]time.Duration{}}
		for sp, d := range spaceDays {
			opts.RetentionSpaceMaxAge[sp] = days(d)
		}
		db := mustOpen(t, t.TempDir(), opts)
		defer db.Close()
		gens := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) spacedEvent {
			return spacedEvent{
				ageDays:    rapid.IntRange(0, 25).Draw(rt, "age"),
				namespaces: rapid.SliceOfN(rapid.SampledFrom(append([]string{""}, spaces...)), 0, 2).Draw(rt, "namespaces"),
				spaceIDs:   rapid.SliceOfN(rapid.SampledFrom(spaces), 0, 2).Draw(rt, "space_ids"),
			}
		}), 1, 30).Draw(rt, "events")
		var want []uint64
		for i, g := range gens {
			e := ev("app", "act", "")
			e.Timestamp = event.DateOf(now.Add(-days(g.ageDays) - time.Hour))
			for _, ns := range g.namespaces {
				e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{Rel: "primary", Type: "alert", ID: "x", Namespace: ns})
			}
			e.Kibana.SpaceIDs.Values = g.spaceIDs
			a, err := db.Append(ctx, e)
			if err != nil {
				rt.Fatal(err)
			}
			if modelKept(g, defaultDays, spaceDays) {
				want = append(want, a.FirstSeq)
			}
			if i == len(gens)/2 { // some in a segment, the rest in the head
				if err := db.Roll(ctx); err != nil {
					rt.Fatal(err)
				}
			}
		}
		check := func(when string) {
			res, err := db.Query(ctx, query.Request{Filter: "event.provider:app", PerPage: 100})
			if err != nil {
				rt.Fatal(err)
			}
			var got []uint64
			for _, h := range res.Hits {
				got = append(got, h.Seq)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				rt.Fatalf("%s: kept %v, want %v", when, got, want)
			}
		}
		check("before retention")
		if err := db.Roll(ctx); err != nil {
			rt.Fatal(err)
		}
		if _, err := db.ApplyRetention(ctx); err != nil {
			rt.Fatal(err)
		}
		check("after retention")
	})
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
