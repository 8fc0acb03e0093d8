package query

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/segment"
)

// refConditions are filters on saved-object refs and spaces, with the
// placeholders $ID (an id), $TYPE (a type), $SPACE (a space) and $REL (a
// rel) filled from the events' values.
var refConditions = []string{
	`kibana.saved_objects:{id:$ID}`,
	`kibana.saved_objects:{type:$TYPE}`,
	`kibana.saved_objects:{namespace:$SPACE}`,
	`kibana.saved_objects:{rel:$REL}`,
	`kibana.saved_objects:{id:$ID and type:$TYPE}`,
	`kibana.saved_objects:{id:$ID and namespace:$SPACE and rel:primary}`,
	`kibana.saved_objects:{(id:$ID or id:B) and not rel:primary}`,
	`kibana.saved_objects:{type:$TYPE and namespace:$SPACE}`,
	`kibana.saved_objects:{id:$ID and rel:$REL}`,
	`kibana.saved_objects:{id:$ID and namespace:*}`,
	`kibana.saved_objects:{id:$ID and type_id:x}`,
	`kibana.saved_objects:{type:a*}`,
	`kibana.saved_objects:{namespace:s*}`,
	`kibana.saved_objects:{rel:*}`,
	`kibana.saved_objects:{not type:$TYPE}`,
	`kibana.saved_objects.id:$ID`,
	`kibana.saved_objects.type:$TYPE and event.action:a1`,
	`kibana.saved_objects.namespace:$SPACE or kibana.saved_objects.rel:$REL`,
	`not kibana.saved_objects:{id:$ID}`,
	`kibana.saved_objects.namespace:*`,
	``,
}

// TestRefConditionsEveryLayout checks every saved-object and space
// condition against a plain evaluation of the events, over a version 1
// file (refs keyed type first, no space postings: answered by checking
// rows) and a current one (answered from postings), which must agree.
func TestRefConditionsEveryLayout(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(rt, "events")
		evs := make([]event.Event, n)
		rows := make([]segment.Row, n)
		for i := range evs {
			evs[i] = genRefEvent(rt, i)
			rows[i] = segment.Row{Seq: uint64(i + 1), Event: &evs[i]}
		}
		dir := t.TempDir()
		var snaps []Snapshot
		for _, v := range []int{1, segment.Version} {
			path := filepath.Join(dir, fmt.Sprintf("v%d.seg", v))
			if _, err := segment.Write(path, rows, segment.WriteOptions{Version: v, BlockRows: 7}); err != nil {
				rt.Fatal(err)
			}
			r, err := segment.Open(path, segment.OpenOptions{})
			if err != nil {
				rt.Fatal(err)
			}
			defer r.Close()
			snaps = append(snaps, Snapshot{Sources: []Source{r}, MaxSeq: uint64(n)})
		}
		text := strings.NewReplacer(
			"$ID", rapid.SampledFrom([]string{"A", "B", "C"}).Draw(rt, "id"),
			"$TYPE", rapid.SampledFrom([]string{"alert", "action"}).Draw(rt, "type"),
			"$SPACE", rapid.SampledFrom([]string{"default", "s1", "s2"}).Draw(rt, "space"),
			"$REL", rapid.SampledFrom([]string{"primary", "other"}).Draw(rt, "rel"),
		).Replace(rapid.SampledFrom(refConditions).Draw(rt, "filter"))
		req := Request{Filter: text, PerPage: MaxWindow}
		if rapid.Bool().Draw(rt, "in_space") {
			req.Space = rapid.SampledFrom([]string{"default", "s1", "s2"}).Draw(rt, "req_space")
		}
		if rapid.IntRange(0, 3).Draw(rt, "scoped") == 0 {
			req.SavedObjects = &SavedObjects{Type: "alert", IDs: []string{"A", "C"}, Space: rapid.SampledFrom([]string{"", "s1"}).Draw(rt, "so_space")}
		}
		f, err := filter.Parse(text)
		if err != nil {
			rt.Fatalf("%s: %v", text, err)
		}
		var want []uint64
		for i := range evs {
			if f.Match(&evs[i]) && (req.Space == "" || evs[i].InSpace(req.Space)) && inScope(&evs[i], req.SavedObjects) {
				want = append(want, uint64(i+1))
			}
		}
		for v, snap := range snaps {
			res, err := Execute(context.Background(), snap, req, Options{})
			if err != nil {
				rt.Fatalf("version %d: %v", v+1, err)
			}
			var got []uint64
			for _, h := range res.Hits {
				got = append(got, h.Seq)
			}
			if res.Total != len(want) || !slices.Equal(got, want) {
				rt.Fatalf("file %d of %s, space %q, scope %+v: total %d, hits %v; want %v", v, text, req.Space, req.SavedObjects, res.Total, got, want)
			}
		}
	})
}

// inScope is Request.SavedObjects' rule, written out: a primary ref of the
// type to one of the ids, in the space ("" is default).
func inScope(e *event.Event, so *SavedObjects) bool {
	if so == nil {
		return true
	}
	space := so.Space
	if space == "" {
		space = "default"
	}
	for _, r := range e.Kibana.SavedObjects {
		ns := r.Namespace
		if ns == "" {
			ns = "default"
		}
		if r.Rel == "primary" && r.Type == so.Type && slices.Contains(so.IDs, r.ID) && ns == space {
			return true
		}
	}
	return false
}

// genRefEvent draws event i: its @timestamp increases with i, and it
// holds up to two refs and maybe kibana.space_ids.
func genRefEvent(rt *rapid.T, i int) event.Event {
	var e event.Event
	e.Timestamp = event.DateOf(time.Date(2024, 5, 1, 0, 0, i, 0, time.UTC))
	e.Event.Provider = "p"
	e.Event.Action = rapid.SampledFrom([]string{"a1", "a2"}).Draw(rt, "action")
	if rapid.IntRange(0, 3).Draw(rt, "has_spaces") == 0 {
		e.Kibana.SpaceIDs = event.Strings(rapid.SampledFrom([]string{"default", "s1", "s2"}).Draw(rt, "space_id"))
	}
	for range rapid.IntRange(0, 2).Draw(rt, "refs") {
		e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
			Rel:       rapid.SampledFrom([]string{"", "primary", "other"}).Draw(rt, "rel"),
			Namespace: rapid.SampledFrom([]string{"", "default", "s1", "s2"}).Draw(rt, "ns"),
			Type:      rapid.SampledFrom([]string{"alert", "action"}).Draw(rt, "type"),
			ID:        rapid.SampledFrom([]string{"A", "B", "C"}).Draw(rt, "id"),
			TypeID:    rapid.SampledFrom([]string{"", "x"}).Draw(rt, "type_id"),
		})
	}
	return e
}
