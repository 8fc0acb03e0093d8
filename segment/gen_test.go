package segment

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/eventgen"
	"github.com/eventlogdb/eventlog/internal/match"
)

// This file holds the rapid generators of random rows and queries.

var specialStrings = []string{`"`, `\`, "<", "&", "\u2028", "\x00", "\x1f", "\x7f", "\b\f\n\r\t", "é", "😀", "\ufffd", " "}

// pool makes values repeat, so string vectors get dictionary-coded.
var pool = []string{"5b2de169-2785-441b-ae8c-186a1936b17d", "00000000-0000-0000-0000-00000000000a", "alerting", "actions", "execute", "success", "failure", "info", "error", "default", "space-a"}

func genString(minLen int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if minLen > 0 && rapid.IntRange(0, 2).Draw(t, "pooled") == 0 {
			return rapid.SampledFrom(pool).Draw(t, "p")
		}
		var b strings.Builder
		for b.Len() < minLen || rapid.IntRange(0, 3).Draw(t, "more") > 0 {
			if rapid.Bool().Draw(t, "special") {
				b.WriteString(rapid.SampledFrom(specialStrings).Draw(t, "s"))
			} else {
				b.WriteString(rapid.StringN(0, 8, -1).Draw(t, "s"))
			}
		}
		return b.String()
	})
}

func genDate() *rapid.Generator[event.Date] {
	return rapid.Custom(func(t *rapid.T) event.Date {
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d",
			rapid.IntRange(2020, 2022).Draw(t, "year"), rapid.IntRange(1, 12).Draw(t, "month"),
			rapid.IntRange(1, 28).Draw(t, "day"), rapid.IntRange(0, 23).Draw(t, "hour"),
			rapid.IntRange(0, 59).Draw(t, "min"), rapid.IntRange(0, 59).Draw(t, "sec"))
		if n := rapid.IntRange(0, 9).Draw(t, "digits"); n > 0 {
			s += "." + rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), n, n, -1).Draw(t, "frac")
		}
		if rapid.IntRange(0, 2).Draw(t, "offset") == 0 {
			s += "Z"
		} else {
			s += fmt.Sprintf("%s%02d:%02d", rapid.SampledFrom([]string{"+", "-"}).Draw(t, "sign"),
				rapid.IntRange(0, 23).Draw(t, "oh"), rapid.IntRange(0, 59).Draw(t, "om"))
		}
		d, err := event.ParseDate(s)
		if err != nil {
			t.Fatalf("ParseDate(%q): %v", s, err)
		}
		return d
	})
}

func genIP() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.Bool().Draw(t, "v4") {
			return netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, "b"))).String()
		}
		return netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "b"))).String()
	})
}

func genList() *rapid.Generator[event.StringList] {
	return rapid.Custom(func(t *rapid.T) event.StringList {
		if rapid.Bool().Draw(t, "scalar") {
			return event.StringList{Values: []string{genString(1).Draw(t, "v")}, Scalar: true}
		}
		return event.StringList{Values: rapid.SliceOfN(genString(0), 1, 4).Draw(t, "vs")}
	})
}

func genRefs() *rapid.Generator[[]event.SavedObject] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) event.SavedObject {
		var r event.SavedObject
		for _, p := range []*string{&r.Rel, &r.Namespace, &r.ID, &r.Type, &r.TypeID} {
			if rapid.Bool().Draw(t, "has") {
				*p = genString(1).Draw(t, "ref")
			}
		}
		if rapid.Bool().Draw(t, "primary") {
			r.Rel = event.RelPrimary
		}
		return r
	}), 1, 3)
}

// genEvent generates events with every kind of field; each field is present
// with probability density (0..1, drawn per segment so some columns are
// empty in whole blocks).
func genEvent(density float64) *rapid.Generator[event.Event] {
	return rapid.Custom(func(t *rapid.T) event.Event {
		var e event.Event
		e.Timestamp = genDate().Draw(t, "@timestamp")
		for _, f := range event.Fields() {
			if f.ID == colTS || rapid.Float64Range(0, 1).Draw(t, f.Name) >= density {
				continue
			}
			setRandom(t, &e, &f)
		}
		return e
	})
}

func setRandom(t *rapid.T, e *event.Event, f *event.Field) {
	switch f.Kind {
	case event.KindString:
		*f.Str(e) = genString(1).Draw(t, f.Name)
	case event.KindIP:
		*f.Str(e) = genIP().Draw(t, f.Name)
	case event.KindStrings:
		*f.List(e) = genList().Draw(t, f.Name)
	case event.KindDate:
		*f.Date(e) = genDate().Draw(t, f.Name)
	case event.KindInt:
		*f.Int(e) = event.Int(rapid.Int64().Draw(t, f.Name))
	case event.KindFloat:
		*f.Float(e) = event.Float(rapid.Float64().Draw(t, f.Name))
	case event.KindDuration:
		e.Event.Duration = &event.Duration{Nanos: rapid.Int64().Draw(t, "nanos"), Quoted: rapid.Bool().Draw(t, "quoted")}
	case event.KindLabels:
		e.Labels = rapid.MapOfN(genString(0), genString(0), 1, 4).Draw(t, f.Name)
	case event.KindRefs:
		e.Kibana.SavedObjects = genRefs().Draw(t, f.Name)
	case event.KindExtra:
		e.Extra = eventgen.Extra(t)
	default:
		t.Fatalf("field %s: kind %d has no generator", f.Name, f.Kind)
	}
}

// genRows generates 1..max rows sorted by (@timestamp, sequence) with
// distinct sequence numbers; timestamps repeat and arrive out of order.
func genRows(maxRows int) *rapid.Generator[[]Row] {
	return rapid.Custom(func(t *rapid.T) []Row {
		density := rapid.Float64Range(0, 1).Draw(t, "density")
		evs := rapid.SliceOfN(genEvent(density), 1, maxRows).Draw(t, "events")
		seqs := rapid.Permutation(seqRange(len(evs))).Draw(t, "seqs")
		rows := make([]Row, len(evs))
		for i := range evs {
			if i > 0 && rapid.IntRange(0, 3).Draw(t, "sameTS") == 0 {
				evs[i].Timestamp = evs[i-1].Timestamp
			}
			rows[i] = Row{Seq: seqs[i], Event: &evs[i]}
		}
		sortRows(rows)
		return rows
	})
}

func seqRange(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(100 + 3*i)
	}
	return s
}

func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int { return match.Compare(position(a), position(b)) })
}

// checkSource checks the query engine's view of r against rows (in
// storage order): the blocks' keys are the rows' positions, in order and
// within each block's bounds, and every term's postings are exactly the
// rows holding it; a term no row holds has none.
func checkSource(t *rapid.T, r *Reader, rows []Row) {
	var n int
	for bi, b := range r.Blocks() {
		ts, seq, err := r.Keys(bi)
		if err != nil {
			t.Fatalf("Keys(%d): %v", bi, err)
		}
		if int(b.FirstRow) != n || len(ts) != int(b.Rows) || len(seq) != int(b.Rows) {
			t.Fatalf("block %d: first row %d, %d rows, %d keys; want first row %d", bi, b.FirstRow, b.Rows, len(ts), n)
		}
		for i := range ts {
			p := position(rows[n+i])
			if ts[i] != p.TS || seq[i] != p.Seq || ts[i] < b.MinTS || ts[i] > b.MaxTS || seq[i] < b.MinSeq || seq[i] > b.MaxSeq {
				t.Fatalf("block %d row %d: key (%d, %d), want (%d, %d) within %+v", bi, i, ts[i], seq[i], p.TS, p.Seq, b)
			}
		}
		n += len(ts)
	}
	if n != len(rows) {
		t.Fatalf("blocks hold %d rows, want %d", n, len(rows))
	}
	want := map[index.Term][]uint32{{Field: "event.action", Value: "no-such-action"}: nil}
	for i, row := range rows {
		for _, term := range index.Terms(row.Event) {
			if l := want[term]; len(l) == 0 || l[len(l)-1] != uint32(i) {
				want[term] = append(l, uint32(i))
			}
		}
	}
	for term, rowsOf := range want {
		bm, err := r.Postings(term)
		if err != nil {
			t.Fatalf("Postings(%v): %v", term, err)
		}
		var got []uint32
		if bm != nil {
			got = bm.ToArray()
		}
		if !slices.Equal(got, rowsOf) {
			t.Fatalf("Postings(%v) = %v, want %v", term, got, rowsOf)
		}
	}
}

func bySeq(rows []Row) []Row {
	s := slices.Clone(rows)
	slices.SortFunc(s, func(a, b Row) int { return cmp.Compare(a.Seq, b.Seq) })
	return s
}

func jsonOf(ev *event.Event) string { return string(event.AppendJSON(nil, ev)) }
