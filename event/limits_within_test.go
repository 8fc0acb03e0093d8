package event

import (
	"testing"

	"pgregory.net/rapid"
)

// needs returns the limits e just fits: its longest string, and its
// largest list, label and ref counts.
func needs(e *Event) Limits {
	var n Limits
	str := func(s string) { n.MaxStringBytes = max(n.MaxStringBytes, len(s)) }
	for i := range fields {
		f := &fields[i]
		switch f.Kind {
		case KindString:
			str(*f.Str(e))
		case KindStrings:
			l := f.List(e).Values
			n.MaxTags = max(n.MaxTags, len(l))
			for _, v := range l {
				str(v)
			}
		}
	}
	n.MaxLabels = len(e.Labels)
	for k, v := range e.Labels {
		str(k)
		str(v)
	}
	n.MaxRefs = len(e.Kibana.SavedObjects)
	for i := range e.Kibana.SavedObjects {
		for _, p := range refFields(&e.Kibana.SavedObjects[i]) {
			str(*p)
		}
	}
	return n
}

// genLimitsNear draws limits about what e needs: each bound one below,
// at or one above it, or zero (the default), so that a bound decides.
func genLimitsNear(e *Event) *rapid.Generator[Limits] {
	n := needs(e)
	return rapid.Custom(func(t *rapid.T) Limits {
		near := func(name string, v int) int {
			if rapid.IntRange(0, 4).Draw(t, name+" default") == 0 {
				return 0
			}
			return max(1, v+rapid.IntRange(-1, 1).Draw(t, name))
		}
		return Limits{
			MaxStringBytes: near("strings", n.MaxStringBytes),
			MaxRefs:        near("refs", n.MaxRefs),
			MaxTags:        near("tags", n.MaxTags),
			MaxLabels:      near("labels", n.MaxLabels),
		}
	})
}

// TestPropertyDecodedValidatesWithin: an event Decode accepts under
// limits l passes Validate under every limits o that l is Within, so
// eventlog.Batch.AddDecoded may skip checking it again.
func TestPropertyDecodedValidatesWithin(t *testing.T) {
	decided := 0
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		l, o := genLimitsNear(&e).Draw(t, "decode limits"), genLimitsNear(&e).Draw(t, "store limits")
		got, err := DecodeWith(AppendJSON(nil, &e), DecodeOptions{Limits: l})
		if err != nil || !l.Within(o) {
			return
		}
		decided++
		if err := got.Validate(o); err != nil {
			t.Fatalf("decoded under %+v, within %+v, yet Validate says %v", l, o, err)
		}
	})
	if decided == 0 {
		t.Fatal("no drawn event decoded under limits within the store's")
	}
}

// TestLimitsWithin: each bound is compared after defaults, and
// MaxDocumentBytes, which Validate does not check, is left out.
func TestLimitsWithin(t *testing.T) {
	for name, c := range map[string]struct {
		l, o Limits
		want bool
	}{
		"zero in zero":              {Limits{}, Limits{}, true},
		"default spelt out":         {DefaultLimits(), Limits{}, true},
		"stricter strings":          {Limits{MaxStringBytes: 10}, Limits{}, true},
		"looser strings":            {Limits{}, Limits{MaxStringBytes: 10}, false},
		"looser refs":               {Limits{MaxRefs: 200}, Limits{}, false},
		"looser tags":               {Limits{MaxTags: 200}, Limits{}, false},
		"looser labels":             {Limits{MaxLabels: 200}, Limits{}, false},
		"looser extra depth":        {Limits{MaxExtraDepth: 10}, Limits{MaxExtraDepth: 5}, false},
		"looser extra keys":         {Limits{MaxExtraKeys: 2000}, Limits{}, false},
		"document size not checked": {Limits{MaxDocumentBytes: 1 << 30}, Limits{MaxDocumentBytes: 10}, true},
	} {
		if got := c.l.Within(c.o); got != c.want {
			t.Errorf("%s: %+v.Within(%+v) = %v, want %v", name, c.l, c.o, got, c.want)
		}
	}
}
