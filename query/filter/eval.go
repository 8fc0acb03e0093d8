package filter

import (
	"cmp"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// eventLeaf compiles a leaf on an event field (not a ref property).
func eventLeaf(n Node) (evalFn, *problem) {
	if pathOf(n).Field == extraField {
		return keptLeaf(n)
	}
	switch n := n.(type) {
	case *Match:
		return matchLeaf(n.Path, n.Value, n.Quoted)
	case *Prefix:
		return prefixLeaf(n.Path, n.Prefix)
	case *Exists:
		return existsLeaf(n.Path), nil
	case *Range:
		return rangeLeaf(n)
	}
	return nil, fieldProblem("unknown node type %T", n)
}

// wholeProblem is the error for a match or prefix on labels or
// kibana.saved_objects as a whole, which have no single value.
func wholeProblem(p Path) *problem {
	if p.Field == labelsField {
		return fieldProblem("labels needs a key: labels.KEY:value")
	}
	return fieldProblem("%s needs a property (%s.id:abc) or a nested query (%s:{...})", refsName, refsName, refsName)
}

func matchLeaf(p Path, value string, quoted bool) (evalFn, *problem) {
	f := p.Field
	if isText(p) {
		q := newTextQuery(value, quoted, false)
		get := f.Str
		return func(e *event.Event) bool { return q.match(*get(e)) }, nil
	}
	switch f.Kind {
	case event.KindString, event.KindStrings, event.KindLabels:
		if f.Kind == event.KindLabels && p.Sub == "" {
			return nil, wholeProblem(p)
		}
		return liftString(p, func(s string) bool { return s == value }), nil
	case event.KindIP:
		test, pr := ipTest(p, value)
		if pr != nil {
			return nil, pr
		}
		return liftString(p, test), nil
	case event.KindDate, event.KindInt, event.KindDuration, event.KindFloat:
		r := &Range{Path: p, Value: value}
		if pr := parseRangeValue(r); pr != nil {
			return nil, pr
		}
		return ordered(r, func(c int) bool { return c == 0 }), nil
	}
	return nil, wholeProblem(p)
}

// ipTest compiles a value for an IP field: an address, compared as a
// netip.Addr (so ::1 equals 0:0:0:0:0:0:0:1), a CIDR prefix that
// contains the address, or a pseudonym (event.IsPseudonym), compared as
// a keyword.
func ipTest(p Path, value string) (func(string) bool, *problem) {
	if event.IsPseudonym(value) { // a pseudonymised address: a keyword
		return func(s string) bool { return s == value }, nil
	}
	if pfx, err := netip.ParsePrefix(value); err == nil {
		pfx = pfx.Masked()
		return func(s string) bool {
			a, err := netip.ParseAddr(s)
			return err == nil && pfx.Contains(a)
		}, nil
	}
	want, err := netip.ParseAddr(value)
	if err != nil {
		return nil, valueProblem("invalid IP address or CIDR prefix %s for %s", quoteName(value), p)
	}
	return func(s string) bool {
		a, err := netip.ParseAddr(s)
		return err == nil && a == want
	}, nil
}

func prefixLeaf(p Path, prefix string) (evalFn, *problem) {
	f := p.Field
	if isText(p) {
		q := newTextQuery(prefix, false, true)
		get := f.Str
		return func(e *event.Event) bool { return q.match(*get(e)) }, nil
	}
	switch f.Kind {
	case event.KindString, event.KindStrings, event.KindIP:
		return liftString(p, func(s string) bool { return strings.HasPrefix(s, prefix) }), nil
	case event.KindLabels, event.KindRefs:
		if p.Sub == "" {
			return nil, wholeProblem(p)
		}
		return liftString(p, func(s string) bool { return strings.HasPrefix(s, prefix) }), nil
	}
	return nil, fieldProblem("wildcard on %s: wildcards need a keyword or text field", p)
}

// liftString lifts a test on one string value to the event: a string field that
// is present, any element of a list, a label that is present.
func liftString(p Path, test func(string) bool) evalFn {
	f := p.Field
	switch f.Kind {
	case event.KindStrings:
		get := f.List
		return func(e *event.Event) bool {
			for _, v := range get(e).Values {
				if test(v) {
					return true
				}
			}
			return false
		}
	case event.KindLabels:
		key := p.Sub
		return func(e *event.Event) bool {
			v, ok := e.Labels[key]
			return ok && test(v)
		}
	}
	get := f.Str
	return func(e *event.Event) bool {
		s := *get(e)
		return s != "" && test(s)
	}
}

func existsLeaf(p Path) evalFn {
	f := p.Field
	switch f.Kind {
	case event.KindString, event.KindIP:
		get := f.Str
		return func(e *event.Event) bool { return *get(e) != "" }
	case event.KindStrings:
		get := f.List
		return func(e *event.Event) bool { return len(get(e).Values) > 0 }
	case event.KindDate:
		get := f.Date
		return func(e *event.Event) bool { return !get(e).IsZero() }
	case event.KindInt:
		get := f.Int
		return func(e *event.Event) bool { return *get(e) != nil }
	case event.KindFloat:
		get := f.Float
		return func(e *event.Event) bool { return *get(e) != nil }
	case event.KindDuration:
		return func(e *event.Event) bool { return e.Event.Duration != nil }
	case event.KindLabels:
		if p.Sub == "" {
			return func(e *event.Event) bool { return len(e.Labels) > 0 }
		}
		key := p.Sub
		return func(e *event.Event) bool { _, ok := e.Labels[key]; return ok }
	}
	return func(e *event.Event) bool { return len(e.Kibana.SavedObjects) > 0 }
}

// rangeKind is the problem with a range on p's field, or nil when the field
// is a number or a date.
func rangeKind(p Path) *problem {
	switch p.Field.Kind {
	case event.KindExtra:
		return nil
	case event.KindDate, event.KindInt, event.KindDuration, event.KindFloat:
		if p.Sub == "" {
			return nil
		}
	}
	return fieldProblem("range on %s: ranges need a number or date field", p)
}

// parseRangeValue sets r.Int or r.Float from r.Value by the field's kind.
func parseRangeValue(r *Range) *problem {
	p := r.Path
	switch p.Field.Kind {
	case event.KindExtra:
		parseKeptRange(r)
	case event.KindDate:
		d, err := event.ParseDate(r.Value)
		if err != nil {
			hint := ""
			if !strings.Contains(r.Value, ":") {
				hint = " (quote dates: they contain ':')"
			}
			return valueProblem("invalid date %s for %s: %v%s", quoteName(r.Value), p, err, hint)
		}
		r.Int = d.UnixNano()
	case event.KindInt, event.KindDuration:
		n, err := strconv.ParseInt(r.Value, 10, 64)
		if err != nil {
			return valueProblem("invalid integer %s for %s", quoteName(r.Value), p)
		}
		r.Int = n
	case event.KindFloat:
		x, err := strconv.ParseFloat(r.Value, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return valueProblem("invalid number %s for %s", quoteName(r.Value), p)
		}
		r.Float = x
	default:
		return rangeKind(p)
	}
	return nil
}

func rangeLeaf(r *Range) (evalFn, *problem) {
	if pr := rangeKind(r.Path); pr != nil {
		return nil, pr
	}
	holds, pr := opHolds(r.Op)
	if pr != nil {
		return nil, pr
	}
	return ordered(r, holds), nil
}

// opHolds returns the test of a comparison result (-1, 0, +1) for op.
func opHolds(op Op) (func(int) bool, *problem) {
	switch op {
	case OpLT:
		return func(c int) bool { return c < 0 }, nil
	case OpLTE:
		return func(c int) bool { return c <= 0 }, nil
	case OpGT:
		return func(c int) bool { return c > 0 }, nil
	case OpGTE:
		return func(c int) bool { return c >= 0 }, nil
	}
	return nil, fieldProblem("unknown range operator %v", op)
}

// ordered compares the field's value with r.Int or r.Float and passes the
// result (-1, 0, +1) to holds; an absent value never holds, nor does a NaN.
func ordered(r *Range, holds func(int) bool) evalFn {
	f := r.Path.Field
	switch f.Kind {
	case event.KindDate:
		get, want := f.Date, r.Int
		return func(e *event.Event) bool {
			d := get(e)
			return !d.IsZero() && holds(cmp.Compare(d.UnixNano(), want))
		}
	case event.KindInt:
		get, want := f.Int, r.Int
		return func(e *event.Event) bool {
			v := *get(e)
			return v != nil && holds(cmp.Compare(*v, want))
		}
	case event.KindDuration:
		want := r.Int
		return func(e *event.Event) bool {
			d := e.Event.Duration
			return d != nil && holds(cmp.Compare(d.Nanos, want))
		}
	}
	get, want := f.Float, r.Float
	return func(e *event.Event) bool {
		v := *get(e)
		return v != nil && !math.IsNaN(*v) && !math.IsNaN(want) && holds(cmp.Compare(*v, want))
	}
}

// refLeaf compiles a leaf on a saved-object ref property.
func refLeaf(n Node) (refFn, *problem) {
	p := pathOf(n)
	get := refProp(p.Sub)
	switch n := n.(type) {
	case *Match:
		value := n.Value
		return func(r *event.SavedObject) bool { v := get(r); return v != "" && v == value }, nil
	case *Prefix:
		prefix := n.Prefix
		return func(r *event.SavedObject) bool { v := get(r); return v != "" && strings.HasPrefix(v, prefix) }, nil
	case *Exists:
		raw := refRaw(p.Sub)
		return func(r *event.SavedObject) bool { return raw(r) != "" }, nil
	case *Range:
		return nil, rangeKind(p)
	}
	return nil, fieldProblem("unknown node type %T", n)
}
