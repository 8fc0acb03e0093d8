package event

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestSpaces(t *testing.T) {
	ref := func(ns string) SavedObject { return SavedObject{Type: "alert", ID: "1", Namespace: ns} }
	cases := []struct {
		name string
		ev   Event
		want []string
	}{
		{"nothing is default", Event{}, []string{"default"}},
		{"ref without namespace", Event{Kibana: Kibana{SavedObjects: []SavedObject{ref("")}}}, []string{"default"}},
		{"refs and space_ids, once each", Event{Kibana: Kibana{
			SavedObjects: []SavedObject{ref("a"), ref("b"), ref("a")},
			SpaceIDs:     StringList{Values: []string{"b", "c"}},
		}}, []string{"a", "b", "c"}},
		{"space_ids only", Event{Kibana: Kibana{SpaceIDs: StringList{Values: []string{"x"}}}}, []string{"x"}},
	}
	for _, c := range cases {
		if got := c.ev.Spaces(nil); !slices.Equal(got, c.want) {
			t.Errorf("%s: Spaces = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestInSpaceAgreesWithSpaces checks InSpace against Spaces, its model.
func TestInSpaceAgreesWithSpaces(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		space := rapid.SampledFrom([]string{"", "default", "a", "b"})
		var ev Event
		for _, ns := range rapid.SliceOfN(space, 0, 3).Draw(t, "refs") {
			ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, SavedObject{Type: "t", ID: "i", Namespace: ns})
		}
		for _, s := range rapid.SliceOfN(space, 0, 3).Draw(t, "space_ids") {
			if s != "" {
				ev.Kibana.SpaceIDs.Values = append(ev.Kibana.SpaceIDs.Values, s)
			}
		}
		prefix := []string{"keep"}
		spaces := ev.Spaces(prefix)
		if !slices.Equal(spaces[:1], prefix) {
			t.Fatalf("Spaces changed dst's prefix: %q", spaces)
		}
		for _, s := range []string{"default", "a", "b", "c"} {
			if got, want := ev.InSpace(s), slices.Contains(spaces[1:], s); got != want {
				t.Fatalf("InSpace(%q) = %v, Spaces = %q", s, got, spaces[1:])
			}
		}
	})
}
