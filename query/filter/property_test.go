package filter

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// The property test generates canonical trees from a small vocabulary,
// renders them to KQL text in varied spellings, parses the text back and
// checks that the tree's String round-trips and that Match agrees with
// oracle (oracle_test.go), an evaluator written separately from eval.go.

// Vocabulary. Values include characters that need quoting or escaping.
var (
	keywordValues = []string{"a", "b", "A", "a b", "x-y", "and", "OR", "c:d", "e*f", "(p)", `q"r`, `s\t`, "é", ""}
	prefixValues  = []string{"a", "x", "x-", "A", "a ", "é", "*", "c:"}
	textWords     = []string{"disk", "Disk", "full", "FULL", "timeout", "ab", "abc", "é", "É", "x"}
	textSeps      = []string{" ", ", ", "-", "  ", ": "}
	intValues     = []int64{-1, 0, 1, 2, 3}
	durValues     = []int64{0, 1000, 1500000}
	floatValues   = []float64{0, 0.5, 1.5, -2}
	dateValues    = []string{"2024-05-01T00:00:00Z", "2024-05-01T02:00:00+02:00", "2024-05-01T00:00:00.5Z", "2023-01-01T00:00:00Z"}
	ipValues      = []string{"10.0.0.1", "10.0.0.2", "192.168.1.1", "::1", "0:0:0:0:0:0:0:1", "fe80::2"}
	ipQueries     = []string{"10.0.0.1", "::1", "0:0:0:0:0:0:0:1", "10.0.0.0/8", "10.0.0.0/31", "::/120", "192.168.1.1"}
	ipPrefixes    = []string{"10.", "10.0.0.", ":", "f"}
	refTypes      = []string{"alert", "action", ""}
	refIDs        = []string{"a", "b", ""}
	refSpaces     = []string{"", "default", "s1"}
)

type fieldGen struct {
	path Path
	kind string // keyword, text, int, dur, float, date, ip
}

func fld(name string) *event.Field { return event.FieldByName(name) }

var genFields = []fieldGen{
	{Path{Field: fld("event.action")}, "keyword"},
	{Path{Field: fld("event.outcome")}, "keyword"},
	{Path{Field: fld("tags")}, "keyword"},
	{Path{Field: labelsField, Sub: "team"}, "keyword"},
	{Path{Field: labelsField, Sub: "env"}, "keyword"},
	{Path{Field: messageField}, "text"},
	{Path{Field: fld("event.sequence")}, "int"},
	{Path{Field: fld("event.duration")}, "dur"},
	{Path{Field: fld("event.risk_score")}, "float"},
	{Path{Field: fld("@timestamp")}, "date"},
	{Path{Field: fld("event.start")}, "date"},
	{Path{Field: fld("source.ip")}, "ip"},
	{Path{Field: refsField, Sub: "type"}, "keyword"},
	{Path{Field: refsField, Sub: "id"}, "keyword"},
	{Path{Field: refsField, Sub: "namespace"}, "keyword"},
}

var refGenFields = []fieldGen{
	{Path{Field: refsField, Sub: "type"}, "keyword"},
	{Path{Field: refsField, Sub: "id"}, "keyword"},
	{Path{Field: refsField, Sub: "namespace"}, "keyword"},
}

// genNode draws a canonical tree: no And directly under an And, no Or under
// an Or, no nested query inside another.
func genNode(t *rapid.T, depth int, inRef bool, parent string) Node {
	kinds := []string{"leaf", "leaf", "leaf"}
	if depth > 0 {
		kinds = append(kinds, "not")
		if parent != "and" {
			kinds = append(kinds, "and")
		}
		if parent != "or" {
			kinds = append(kinds, "or")
		}
		if !inRef {
			kinds = append(kinds, "nested")
		}
	}
	switch kw := rapid.SampledFrom(kinds).Draw(t, "node"); kw {
	case "not":
		return &Not{Node: genNode(t, depth-1, inRef, "not")}
	case "and", "or":
		n := rapid.IntRange(2, 3).Draw(t, "children")
		nodes := make([]Node, n)
		for i := range nodes {
			nodes[i] = genNode(t, depth-1, inRef, kw)
		}
		if kw == "and" {
			return &And{Nodes: nodes}
		}
		return &Or{Nodes: nodes}
	case "nested":
		return &Nested{Path: Path{Field: refsField}, Node: genNode(t, depth-1, true, "nested")}
	}
	fields := genFields
	if inRef {
		fields = refGenFields
	}
	return genLeaf(t, rapid.SampledFrom(fields).Draw(t, "field"))
}

func genLeaf(t *rapid.T, g fieldGen) Node {
	p := g.path
	if rapid.IntRange(0, 7).Draw(t, "exists") == 0 {
		return &Exists{Path: p}
	}
	switch g.kind {
	case "keyword":
		if rapid.IntRange(0, 3).Draw(t, "prefix") == 0 {
			return &Prefix{Path: p, Prefix: rapid.SampledFrom(prefixValues).Draw(t, "prefix value")}
		}
		v := rapid.SampledFrom(keywordValues).Draw(t, "value")
		return &Match{Path: p, Value: v, Quoted: v == "" || rapid.Bool().Draw(t, "quoted")}
	case "text":
		n := rapid.IntRange(1, 3).Draw(t, "words")
		words := make([]string, n)
		for i := range words {
			words[i] = rapid.SampledFrom(textWords).Draw(t, "word")
		}
		v := strings.Join(words, rapid.SampledFrom([]string{" ", "-", " - "}).Draw(t, "join"))
		if rapid.IntRange(0, 3).Draw(t, "prefix") == 0 {
			if last := v[len(v)-1]; len(v) > 1 && last < 0x80 && rapid.Bool().Draw(t, "cut") {
				v = v[:len(v)-1] // a prefix that ends inside a word
			}
			return &Prefix{Path: p, Prefix: v}
		}
		return &Match{Path: p, Value: v, Quoted: rapid.Bool().Draw(t, "quoted")}
	case "ip":
		if rapid.IntRange(0, 3).Draw(t, "prefix") == 0 {
			return &Prefix{Path: p, Prefix: rapid.SampledFrom(ipPrefixes).Draw(t, "ip prefix")}
		}
		return &Match{Path: p, Value: rapid.SampledFrom(ipQueries).Draw(t, "ip"), Quoted: rapid.Bool().Draw(t, "quoted")}
	}
	r := &Range{Path: p, Op: Op(rapid.IntRange(0, 4).Draw(t, "op"))}
	switch g.kind {
	case "int", "dur":
		vals := intValues
		if g.kind == "dur" {
			vals = durValues
		}
		r.Int = rapid.SampledFrom(vals).Draw(t, "int")
		r.Value = strconv.FormatInt(r.Int, 10)
	case "float":
		r.Float = rapid.SampledFrom(floatValues).Draw(t, "float")
		r.Value = strconv.FormatFloat(r.Float, 'g', -1, 64)
	case "date":
		r.Value = rapid.SampledFrom(dateValues).Draw(t, "date")
		d, _ := event.ParseDate(r.Value)
		r.Int = d.UnixNano()
	}
	if r.Op == 0 { // an equality match, on the same value
		return &Match{Path: p, Value: r.Value, Quoted: rapid.Bool().Draw(t, "quoted")}
	}
	return r
}

// genEvent draws an event over the same vocabulary.
func genEvent(t *rapid.T) *event.Event {
	maybe := func(label string, vals []string) string {
		return rapid.SampledFrom(append([]string{""}, vals...)).Draw(t, label)
	}
	ev := &event.Event{}
	ev.Timestamp, _ = event.ParseDate(rapid.SampledFrom(dateValues).Draw(t, "@timestamp"))
	ev.Event.Start, _ = event.ParseDate(maybe("event.start", dateValues))
	n := rapid.IntRange(0, 6).Draw(t, "message words")
	var msg strings.Builder
	for i := range n {
		if i > 0 || rapid.Bool().Draw(t, "leading sep") {
			msg.WriteString(rapid.SampledFrom(textSeps).Draw(t, "sep"))
		}
		msg.WriteString(rapid.SampledFrom(textWords).Draw(t, "message word"))
	}
	ev.Message = msg.String()
	ev.Event.Action = maybe("event.action", keywordValues)
	ev.Event.Outcome = maybe("event.outcome", keywordValues)
	ev.Tags.Values = rapid.SliceOfN(rapid.SampledFrom(keywordValues[:len(keywordValues)-1]), 0, 3).Draw(t, "tags")
	for _, k := range []string{"team", "env"} {
		if rapid.Bool().Draw(t, "has "+k) {
			if ev.Labels == nil {
				ev.Labels = map[string]string{}
			}
			ev.Labels[k] = rapid.SampledFrom(keywordValues).Draw(t, k)
		}
	}
	if rapid.Bool().Draw(t, "has sequence") {
		ev.Event.Sequence = event.Int(rapid.SampledFrom(intValues).Draw(t, "sequence"))
	}
	if rapid.Bool().Draw(t, "has duration") {
		ev.Event.Duration = &event.Duration{Nanos: rapid.SampledFrom(durValues).Draw(t, "duration")}
	}
	if rapid.Bool().Draw(t, "has risk") {
		ev.Event.RiskScore = event.Float(rapid.SampledFrom(floatValues).Draw(t, "risk"))
	}
	ev.Source.IP = maybe("source.ip", ipValues)
	for range rapid.IntRange(0, 3).Draw(t, "refs") {
		ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{
			Type:      rapid.SampledFrom(refTypes).Draw(t, "ref type"),
			ID:        rapid.SampledFrom(refIDs).Draw(t, "ref id"),
			Namespace: rapid.SampledFrom(refSpaces).Draw(t, "ref namespace"),
		})
	}
	return ev
}

func TestPropertyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		root := genNode(t, rapid.IntRange(0, 4).Draw(t, "depth"), false, "")
		r := &renderer{t: t}
		text := r.node(root, false)
		f, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) of %s: %v", text, root, err)
		}
		if got, want := f.String(), root.String(); got != want {
			t.Fatalf("Parse(%q) =\n  %s\nwant\n  %s", text, got, want)
		}
		wantFields := oracleFields(root)
		if got := fieldNames(f.Fields()); got != wantFields {
			t.Fatalf("Parse(%q).Fields() = %s, want %s", text, got, wantFields)
		}
		for i := range 20 {
			ev := genEvent(t)
			want := oracle(root, ev, nil)
			if got := f.Match(ev); got != want {
				t.Fatalf("event %d: Parse(%q).Match = %v, oracle says %v\nevent: %s", i, text, got, want, event.AppendJSON(nil, ev))
			}
			if got := f.Match(project(ev, f.Fields())); got != want {
				t.Fatalf("event %d: Parse(%q).Match on Fields() only = %v, want %v", i, text, got, want)
			}
		}
	})
}

// oracleFields lists the fields a tree names, in schema order.
func oracleFields(n Node) string {
	var names []string
	var visit func(Node)
	visit = func(n Node) {
		switch n := n.(type) {
		case *And:
			for _, c := range n.Nodes {
				visit(c)
			}
		case *Or:
			for _, c := range n.Nodes {
				visit(c)
			}
		case *Not:
			visit(n.Node)
		case *Nested:
			names = append(names, n.Path.Field.Name)
			visit(n.Node)
		default:
			names = append(names, pathOf(n).Field.Name)
		}
	}
	visit(n)
	var out []string
	for _, f := range event.Fields() {
		if slices.Contains(names, f.Name) {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, ",")
}
