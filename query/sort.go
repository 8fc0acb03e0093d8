package query

import (
	"cmp"
	"net/netip"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// sortKey is one compiled sort key.
type sortKey struct {
	field *event.Field
	desc  bool
}

// byTime reports whether the first key is @timestamp, so storage order
// serves the sort.
func byTime(keys []sortKey) bool { return keys[0].field.Name == "@timestamp" }

func compileSort(fields []SortField) ([]sortKey, error) {
	if len(fields) == 0 {
		return []sortKey{{field: event.FieldByName("@timestamp")}}, nil
	}
	if len(fields) > 8 {
		return nil, invalid("sort: at most 8 keys, got %d", len(fields))
	}
	keys := make([]sortKey, 0, len(fields))
	for i, sf := range fields {
		f := event.FieldByName(sf.Field)
		if f == nil || !sortable(f) {
			return nil, invalid("sort[%d]: cannot sort by %q (sortable: %s)", i, sf.Field, fieldNames(sortable))
		}
		k := sortKey{field: f}
		switch strings.ToLower(sf.Order) {
		case "", "asc":
		case "desc":
			k.desc = true
		default:
			return nil, invalid("sort[%d]: order %q: want asc or desc", i, sf.Order)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func sortable(f *event.Field) bool {
	return f.Kind != event.KindLabels && f.Kind != event.KindRefs
}

// value is one sort value of a row. Missing values sort lowest.
type value struct {
	present bool
	kind    uint8 // valueInt, valueFloat or valueString
	i       int64
	f       float64
	s       string
}

const (
	valueInt = iota + 1
	valueFloat
	valueString
)

func compareValues(a, b value) int {
	switch {
	case !a.present || !b.present:
		return cmp.Compare(btoi(a.present), btoi(b.present))
	case a.kind == valueInt:
		return cmp.Compare(a.i, b.i)
	case a.kind == valueFloat:
		return cmp.Compare(a.f, b.f)
	}
	return strings.Compare(a.s, b.s)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// valueOf extracts the sort value of f from ev; ts is the row's @timestamp.
// A list sorts by its smallest element; an IP by its address bytes.
func valueOf(f *event.Field, ev *event.Event, ts int64) value {
	switch f.Kind {
	case event.KindDate:
		if f.Name == "@timestamp" {
			return value{present: true, kind: valueInt, i: ts}
		}
		if d := f.Date(ev); !d.IsZero() {
			return value{present: true, kind: valueInt, i: d.UnixNano()}
		}
	case event.KindInt:
		if p := *f.Int(ev); p != nil {
			return value{present: true, kind: valueInt, i: *p}
		}
	case event.KindDuration:
		if d := ev.Event.Duration; d != nil {
			return value{present: true, kind: valueInt, i: d.Nanos}
		}
	case event.KindFloat:
		if p := *f.Float(ev); p != nil {
			return value{present: true, kind: valueFloat, f: *p}
		}
	case event.KindString:
		if s := *f.Str(ev); s != "" {
			return value{present: true, kind: valueString, s: s}
		}
	case event.KindIP:
		if a, err := netip.ParseAddr(*f.Str(ev)); err == nil {
			b := a.As16()
			return value{present: true, kind: valueString, s: string(b[:])}
		}
		if s := *f.Str(ev); event.IsPseudonym(s) { // sorts as its text
			return value{present: true, kind: valueString, s: s}
		}
	case event.KindStrings:
		if vs := f.List(ev).Values; len(vs) > 0 {
			s := vs[0]
			for _, v := range vs[1:] {
				s = min(s, v)
			}
			return value{present: true, kind: valueString, s: s}
		}
	}
	return value{kind: kindOfValue(f)}
}

func kindOfValue(f *event.Field) uint8 {
	switch f.Kind {
	case event.KindDate, event.KindInt, event.KindDuration:
		return valueInt
	case event.KindFloat:
		return valueFloat
	}
	return valueString
}

// hit is a matching row waiting for the page: its sort values and where to
// read it.
type hit struct {
	vals  []value
	seq   uint64
	src   int
	block int
	row   int // within the block
	visit int // the place of its block in the visit order (work.visit)
}

// compareHits orders hits by the keys, then by sequence in the direction of
// the first key.
func compareHits(keys []sortKey, a, b *hit) int {
	for i, k := range keys {
		c := compareValues(a.vals[i], b.vals[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := cmp.Compare(a.seq, b.seq)
	if keys[0].desc {
		c = -c
	}
	return c
}
