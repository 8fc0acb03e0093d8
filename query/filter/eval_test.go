package filter

import (
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

func mustDate(t testing.TB, s string) event.Date {
	t.Helper()
	d, err := event.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fullEvent has a value in one or more fields of every kind.
func fullEvent(t testing.TB) *event.Event {
	ev := &event.Event{
		Timestamp: mustDate(t, "2024-05-01T00:00:00Z"),
		Message:   "Disk FULL on /dev/sda1: write failed, retrying",
		Tags:      event.Strings("alpha", "beta"),
		Labels:    map[string]string{"team": "infra", "empty": ""},
	}
	ev.Event.Action = "execute"
	ev.Event.Outcome = "success"
	ev.Event.Category = event.Strings("database", "host")
	ev.Event.Duration = &event.Duration{Nanos: 1_500_000}
	ev.Event.Sequence = event.Int(42)
	ev.Event.RiskScore = event.Float(0.75)
	ev.Event.Start = mustDate(t, "2024-05-01T01:00:00+01:00")
	ev.User.FullName = "Ada Lovelace"
	ev.Source.IP = "10.1.2.3"
	ev.Client.IP = "0:0:0:0:0:0:0:1"
	ev.Kibana.SavedObjects = []event.SavedObject{
		{Rel: event.RelPrimary, Type: "alert", ID: "abc"},
		{Type: "action", ID: "xyz", Namespace: "space1", TypeID: ".email"},
	}
	return ev
}

func TestMatch(t *testing.T) {
	full := fullEvent(t)
	empty := &event.Event{Timestamp: full.Timestamp}
	unicode := &event.Event{Timestamp: full.Timestamp, Message: "Größe: ΣΊΣΥΦΟΣ \u212Aelvin"}
	// Each case: the filter and whether it matches full, empty and unicode.
	cases := []struct {
		filter              string
		full, empty, unicod bool
	}{
		{``, true, true, true},

		// keyword fields: whole value, case-sensitive
		{`event.action:execute`, true, false, false},
		{`event.action:"execute"`, true, false, false},
		{`event.action:Execute`, false, false, false},
		{`event.action:exec`, false, false, false},
		{`event.action:exec*`, true, false, false},
		{`event.action:*`, true, false, false},
		{`event.action:""`, false, false, false},
		{`not event.action:execute`, false, true, true},
		{`event.action:(execute or start)`, true, false, false},
		{`event.action:(execute and not start)`, true, false, false},
		{`user.full_name:Ada Lovelace`, true, false, false},
		{`user.full_name:"Ada Lovelace"`, true, false, false},
		{`user.full_name:Ada`, false, false, false},
		{`user.full_name:Ada Love*`, true, false, false},
		{`user.name:*`, false, false, false},
		{`not user.name:*`, true, true, true},

		// string lists: any element
		{`tags:beta`, true, false, false},
		{`tags:gamma`, false, false, false},
		{`tags:be*`, true, false, false},
		{`tags:*`, true, false, false},
		{`event.category:(database and host)`, true, false, false},
		{`event.category:database and not event.category:web`, true, false, false},

		// labels
		{`labels.team:infra`, true, false, false},
		{`labels.team:Infra`, false, false, false},
		{`labels.team:inf*`, true, false, false},
		{`labels.team:*`, true, false, false},
		{`labels.empty:*`, true, false, false},
		{`labels.empty:""`, true, false, false},
		{`labels.other:*`, false, false, false},
		{`labels:*`, true, false, false},

		// message: words, case-insensitive; quoted: a phrase
		{`disk`, true, false, false},
		{`message:disk`, true, false, false},
		{`DISK full`, true, false, false},
		{`full disk`, true, false, false},
		{`full disk sda2`, false, false, false},
		{`"disk full"`, true, false, false},
		{`"full disk"`, false, false, false},
		{`"disk full on dev"`, true, false, false},
		{`"dev sda1 write"`, true, false, false},
		{`sda`, false, false, false},
		{`sda*`, true, false, false},
		{`dev sda*`, true, false, false},
		{`write fail*`, true, false, false},
		{`writ fail*`, false, false, false},
		{`message:-`, false, false, false},
		{`message:"-"`, false, false, false},
		{`*`, true, false, true},
		{`größe`, false, false, true},
		{`GRÖSSE`, false, false, false},
		{`σίσυφοσ`, false, false, true},
		{`kelvin`, false, false, true},
		{`"größe σίσυφος"`, false, false, true},

		// IP addresses and prefixes
		{`source.ip:10.1.2.3`, true, false, false},
		{`source.ip:10.1.2.4`, false, false, false},
		{`source.ip:10.0.0.0/8`, true, false, false},
		{`source.ip:10.1.2.0/24`, true, false, false},
		{`source.ip:192.168.0.0/16`, false, false, false},
		{`source.ip:10.1.*`, true, false, false},
		{`source.ip:"::ffff:10.1.2.3"`, false, false, false},
		{`client.ip:"::1"`, true, false, false},
		{`client.ip:"::2"`, false, false, false},
		{`client.ip:"::/64"`, true, false, false},
		{`client.ip:*`, true, false, false},

		// dates: instants
		{`@timestamp:"2024-05-01T02:00:00+02:00"`, true, true, true},
		{`event.start:"2024-05-01T00:00:00Z"`, true, false, false},
		{`event.start:"2024-05-01T00:00:00.000000001Z"`, false, false, false},
		{`@timestamp < "2024-05-01T00:00:00.001Z"`, true, true, true},
		{`@timestamp > "2024-05-01T00:00:00Z"`, false, false, false},
		{`@timestamp >= "2024-05-01T00:00:00Z"`, true, true, true},
		{`event.start <= "2024-04-30T23:00:00-01:00"`, true, false, false},
		{`event.start < "2024-04-30T23:00:00-01:00"`, false, false, false},
		{`event.start:*`, true, false, false},
		{`event.end:*`, false, false, false},

		// integers
		{`event.sequence:42`, true, false, false},
		{`event.sequence:042`, true, false, false},
		{`event.sequence:43`, false, false, false},
		{`event.sequence > 41`, true, false, false},
		{`event.sequence >= 42`, true, false, false},
		{`event.sequence < 42`, false, false, false},
		{`event.sequence <= 42`, true, false, false},
		{`event.sequence:*`, true, false, false},
		{`not event.sequence < 0`, true, true, true},

		// event.duration, in nanoseconds
		{`event.duration:1500000`, true, false, false},
		{`event.duration >= 1000000`, true, false, false},
		{`event.duration < 1000000`, false, false, false},
		{`event.duration:*`, true, false, false},

		// floats
		{`event.risk_score:0.75`, true, false, false},
		{`event.risk_score:.75`, true, false, false},
		{`event.risk_score > 0.5`, true, false, false},
		{`event.risk_score <= 0.5`, false, false, false},
		{`event.risk_score:*`, true, false, false},
		{`event.risk_score_norm:*`, false, false, false},

		// saved-object refs
		{`kibana.saved_objects.id:abc`, true, false, false},
		{`kibana.saved_objects.rel:primary`, true, false, false},
		{`kibana.saved_objects.type_id:.em*`, true, false, false},
		{`kibana.saved_objects:{ type:alert and id:abc }`, true, false, false},
		{`kibana.saved_objects:{ type:alert and id:xyz }`, false, false, false},
		{`kibana.saved_objects.type:alert and kibana.saved_objects.id:xyz`, true, false, false},
		{`kibana.saved_objects.namespace:default`, true, false, false},
		{`kibana.saved_objects:{ namespace:default and type:action }`, false, false, false},
		{`kibana.saved_objects:{ namespace:space1 and type:action }`, true, false, false},
		{`kibana.saved_objects.namespace:*`, true, false, false},
		{`kibana.saved_objects:{ namespace:* and type:alert }`, false, false, false},
		{`kibana.saved_objects:{ type:alert and not type_id:* }`, true, false, false},
		{`kibana.saved_objects:{ not id:abc }`, true, false, false},
		{`not kibana.saved_objects.id:abc`, false, true, true},
		{`kibana.saved_objects:*`, true, false, false},
		{`not kibana.saved_objects:*`, false, true, true},

		// combinations
		{`event.action:execute and (tags:gamma or labels.team:infra)`, true, false, false},
		{`event.action:start or disk`, true, false, false},
		{`not (event.action:execute or größe)`, false, true, false},
	}
	for _, c := range cases {
		f, err := Parse(c.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.filter, err)
			continue
		}
		for _, e := range []struct {
			name string
			ev   *event.Event
			want bool
		}{{"full", full, c.full}, {"empty", empty, c.empty}, {"unicode", unicode, c.unicod}} {
			if got := f.Match(e.ev); got != e.want {
				t.Errorf("%q on %s event: Match = %v, want %v", c.filter, e.name, got, e.want)
			}
			// Match must read only the fields Fields names.
			if got := f.Match(project(e.ev, f.Fields())); got != e.want {
				t.Errorf("%q on %s event with only Fields() %v: Match = %v, want %v", c.filter, e.name, fieldNames(f.Fields()), got, e.want)
			}
		}
	}
}

// project copies into a new event only the given fields of ev (and the
// timestamp, which is always decoded).
func project(ev *event.Event, fields []*event.Field) *event.Event {
	out := &event.Event{Timestamp: ev.Timestamp}
	for _, f := range fields {
		switch f.Kind {
		case event.KindString, event.KindIP, event.KindExtra:
			*f.Str(out) = *f.Str(ev)
		case event.KindStrings:
			*f.List(out) = *f.List(ev)
		case event.KindDate:
			*f.Date(out) = *f.Date(ev)
		case event.KindInt:
			*f.Int(out) = *f.Int(ev)
		case event.KindFloat:
			*f.Float(out) = *f.Float(ev)
		case event.KindDuration:
			out.Event.Duration = ev.Event.Duration
		case event.KindLabels:
			out.Labels = ev.Labels
		case event.KindRefs:
			out.Kibana.SavedObjects = ev.Kibana.SavedObjects
		}
	}
	return out
}

func fieldNames(fs []*event.Field) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

func TestFields(t *testing.T) {
	cases := map[string]string{
		``:        ``,
		`timeout`: `message`,
		`user.name:* or event.action:x and timeout`: `message,event.action,user.name`,
		`event.action:x and event.action:y`:         `event.action`,
		`@timestamp < "2024-05-01T00:00:00Z"`:       `@timestamp`,
		`labels.team:x or labels.other:y`:           `labels`,
		`kibana.saved_objects:{ id:x }`:             `kibana.saved_objects`,
		`kibana.saved_objects.id:x and tags:y`:      `tags,kibana.saved_objects`,
		`event.duration > 5 and client.ip:"::1"`:    `event.duration,client.ip`,
	}
	for text, want := range cases {
		f, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		fs := f.Fields()
		if got := fieldNames(fs); got != want {
			t.Errorf("Parse(%q).Fields() = %s, want %s", text, got, want)
		}
		for _, fld := range fs {
			if event.FieldByName(fld.Name) != fld {
				t.Errorf("Parse(%q).Fields() holds a copy of %s, not the schema's field", text, fld.Name)
			}
		}
	}
}

func TestNew(t *testing.T) {
	ev := fullEvent(t)
	action := Path{Field: event.FieldByName("event.action")}
	seq := Path{Field: event.FieldByName("event.sequence")}
	ok := []struct {
		root Node
		want bool
		str  string
	}{
		{nil, true, ""},
		{&And{}, true, "(and)"},
		{&Or{}, false, "(or)"},
		{&And{Nodes: []Node{&Match{Path: action, Value: "execute"}}}, true, `(and (match event.action "execute"))`},
		{&Range{Path: seq, Op: OpGT, Int: 41, Value: "ignored"}, true, `(range event.sequence > 41)`},
		{&Range{Path: seq, Op: OpGT, Int: 42}, false, `(range event.sequence > 42)`},
		{&Not{Node: &Exists{Path: Path{Field: event.FieldByName("user.name")}}}, true, `(not (exists user.name))`},
		{&Nested{Path: Path{Field: event.FieldByName("kibana.saved_objects")}, Node: &Prefix{Path: Path{Field: event.FieldByName("kibana.saved_objects"), Sub: "type"}, Prefix: "al"}}, true,
			`(nested kibana.saved_objects (prefix kibana.saved_objects.type "al"))`},
	}
	for _, c := range ok {
		f, err := New(c.root)
		if err != nil {
			t.Errorf("New(%v): %v", c.root, err)
			continue
		}
		if got := f.Match(ev); got != c.want {
			t.Errorf("New(%v).Match = %v, want %v", c.root, got, c.want)
		}
		if got := f.String(); got != c.str {
			t.Errorf("New(%v).String() = %s, want %s", c.root, got, c.str)
		}
		// A Filter literal is compiled on the fly, with the same answer.
		if got := (&Filter{Root: c.root}).Match(ev); got != c.want {
			t.Errorf("Filter{Root: %v}.Match = %v, want %v", c.root, got, c.want)
		}
	}

	copied := *event.FieldByName("event.action")
	bad := map[string]Node{
		`filter: at 3: missing condition (nil node)`:                                              &And{At: 3, Nodes: []Node{nil}},
		`filter: at 4: missing condition (nil node)`:                                              &Not{At: 4, Node: (*Match)(nil)},
		`filter: at 0: "event.action" is not a field of the event schema (use event.FieldByName)`: &Match{Path: Path{Field: &copied}},
		`filter: at 0: "" is not a field of the event schema (use event.FieldByName)`:             &Exists{},
		`filter: at 0: unknown field "event.action.x"`:                                            &Exists{Path: Path{Field: action.Field, Sub: "x"}},
		`filter: at 0: unknown range operator Op(0)`:                                              &Range{Path: seq},
		`filter: at 0: invalid integer "x" for event.sequence`:                                    &Match{Path: seq, Value: "x"},
		`filter: at 7: a nested query cannot hold another`: &Nested{Path: Path{Field: event.FieldByName("kibana.saved_objects")},
			Node: &Nested{At: 7, Path: Path{Field: event.FieldByName("kibana.saved_objects")}, Node: &And{}}},
		`filter: at 2: inside a nested query every field must be a property of kibana.saved_objects (type, id, rel, namespace or type_id)`: &Nested{Path: Path{Field: event.FieldByName("kibana.saved_objects")},
			Node: &Match{At: 2, Path: action, Value: "x"}},
	}
	for want, root := range bad {
		_, err := New(root)
		if err == nil || err.Error() != want {
			t.Errorf("New(%v) = %v, want %s", root, err, want)
		}
		if (&Filter{Root: root}).Match(ev) {
			t.Errorf("Filter{Root: %v}.Match = true for an invalid tree", root)
		}
	}

	var deep Node = &Exists{Path: action}
	for range maxTreeDepth + 1 {
		deep = &Not{Node: deep}
	}
	if _, err := New(deep); err == nil || !strings.Contains(err.Error(), "nesting deeper than") {
		t.Errorf("New(deep tree) = %v, want a nesting error", err)
	}
}

func TestNilFilter(t *testing.T) {
	var f *Filter
	if !f.Match(&event.Event{}) || f.String() != "" || f.Fields() != nil {
		t.Error("a nil *Filter must match everything, print as \"\" and read no fields")
	}
	g, err := Parse("tags:a")
	if err != nil {
		t.Fatal(err)
	}
	if g.Match(nil) {
		t.Error("Match(nil) = true")
	}
}
