package filter

import (
	"testing"

	"pgregory.net/rapid"
)

// KQL of any tree New accepts parses back into a filter that matches the
// same events.
func TestKQLRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		root := genNode(t, 3, false, "")
		want, err := New(root)
		if err != nil {
			return // a tree New refuses: the generator makes a few on purpose
		}
		text := KQL(root)
		got, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) of %s: %v", text, root, err)
		}
		for range 20 {
			ev := genEvent(t)
			if got.Match(ev) != want.Match(ev) {
				t.Fatalf("%s as %q: the text matches %v, the tree %v", root, text, got.Match(ev), want.Match(ev))
			}
		}
	})
}

func TestKQLEscapes(t *testing.T) {
	for _, in := range []string{
		`user.name:alice`,
		`message:disk full`,
		`message:"disk full"`,
		`message:disk\ fu*`,
		`rule.name:disk*`,
		`user.name:"a \"b\" \\ c" and tags:\or`,
		`not (tags:b or tags:d) and user.name:*`,
		`kibana.saved_objects:{ type:alert and not (id:a1 or id:a2) }`,
		`event.duration >= 1000 and @timestamp < "2024-05-01T00:00:00+02:00"`,
		`message:\and\(x\)`,
		`source.ip:"::1" or source.ip:10.0.0.0/8`,
	} {
		f, err := Parse(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got := KQL(f.Root)
		g, err := Parse(got)
		if err != nil || g.String() != f.String() {
			t.Errorf("KQL(%s) = %q, which parses to %v (%v), want %s", in, got, g, err, f)
		}
	}
}

// FuzzKQL: for any filter text that parses, KQL of its tree parses back to
// the same canonical form.
func FuzzKQL(f *testing.F) {
	for _, s := range []string{`user.name:alice`, `message:disk\ full or not tags:"a b"`, `kibana.saved_objects:{ type:alert and id:a* }`,
		`event.duration >= 10 and @timestamp < "2024-05-01T00:00:00Z"`, `source.ip:"::1"`, `labels.team:ops and message:"x \" y"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil || p.Root == nil {
			return
		}
		out := KQL(p.Root)
		q, err := Parse(out)
		if err != nil || q.String() != p.String() {
			t.Fatalf("%q -> %q parses to %v (%v), want %s", text, out, q, err, p)
		}
	})
}
