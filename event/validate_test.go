package event

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	small := Limits{MaxDocumentBytes: 300, MaxStringBytes: 5, MaxRefs: 1, MaxTags: 2, MaxLabels: 1}
	badDate, _ := DateFromParts(0, 0)
	outOfRange := DateOf(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
	cases := []struct {
		name string
		e    Event
		is   error
		msg  string
	}{
		{"ok", Event{Message: "abc", Tags: Strings("a", "b"), Source: Endpoint{IP: "::1"}, Timestamp: DateOf(time.Unix(1, 0))}, nil, ""},
		{"zero date is absent", Event{Timestamp: badDate}, nil, ""},
		{"string limit", Event{Message: "123456"}, ErrLimit, "message: string of 6 bytes is over the limit of 5 bytes"},
		{"utf8", Event{Message: "a\xff"}, ErrWrongType, "message: invalid UTF-8 in string"},
		{"tags", Event{Tags: Strings("a", "b", "c")}, ErrLimit, "tags: more than 2 items"},
		{"list item", Event{Rule: Rule{Author: Strings("a", "123456")}}, ErrLimit, "rule.author[1]: string of 6 bytes is over the limit of 5 bytes"},
		{"scalar of two", Event{Tags: StringList{Values: []string{"a", "b"}, Scalar: true}}, ErrWrongType, "tags: a single-string list (Scalar) must hold exactly one value"},
		{"labels", Event{Labels: map[string]string{"a": "1", "b": "2"}}, ErrLimit, "labels: more than 1 labels"},
		{"label value", Event{Labels: map[string]string{"a": "123456"}}, ErrLimit, "labels.a: string of 6 bytes is over the limit of 5 bytes"},
		{"refs", Event{Kibana: Kibana{SavedObjects: make([]SavedObject, 2)}}, ErrLimit, "kibana.saved_objects: more than 1 saved objects"},
		{"ref field", Event{Kibana: Kibana{SavedObjects: []SavedObject{{TypeID: "123456"}}}}, ErrLimit, "kibana.saved_objects[0].type_id: string of 6 bytes is over the limit of 5 bytes"},
		{"ip", Event{Client: Endpoint{IP: "localhost"}}, ErrWrongType, "client.ip: expected an IPv4 or IPv6 address"},
		{"date", Event{Event: EventFields{Created: outOfRange}}, ErrWrongType, "event.created: invalid date"},
		{"nan", Event{Event: EventFields{RiskScore: Float(math.NaN())}}, ErrWrongType, "event.risk_score: expected a finite number"},
		{"document", Event{Tags: Strings("<<<<<", "<<<<<")}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.Validate(small)
			if c.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.is) || err.Error() != c.msg {
				t.Fatalf("got %v, want %q (%v)", err, c.msg, c.is)
			}
		})
	}
}

func TestDateFromParts(t *testing.T) {
	d, _ := ParseDate("2019-12-09T22:16:43.4+01:00")
	got, ok := DateFromParts(d.UnixNano(), d.Format())
	if !ok || got != d || got.String() != "2019-12-09T22:16:43.4+01:00" {
		t.Fatalf("got %v %v", got, ok)
	}
	if _, ok := DateFromParts(d.UnixNano()+1, d.Format()); ok {
		t.Fatal("accepted an instant finer than the format's precision")
	}
	if _, ok := DateFromParts(math.MinInt64, 1<<4); ok {
		t.Fatal("accepted an instant outside the years ParseDate accepts")
	}
}

func TestTiming(t *testing.T) {
	var e Event
	StopTiming(&e, time.Unix(5, 0))
	if e.Event.Duration != nil || e.Event.End.String() != "1970-01-01T00:00:05.000Z" {
		t.Fatalf("StopTiming without start: %+v", e.Event)
	}
	start := time.Date(2019, 12, 9, 21, 16, 43, 425_999_999, time.FixedZone("", 3600))
	StartTiming(&e, start)
	if got := e.Event.Start.String(); got != "2019-12-09T20:16:43.425Z" {
		t.Fatalf("start %s", got)
	}
	StopTiming(&e, start.Add(1500*time.Millisecond))
	if got := e.Event.End.String(); got != "2019-12-09T20:16:44.925Z" {
		t.Fatalf("end %s", got)
	}
	if e.Event.Duration == nil || *e.Event.Duration != (Duration{Nanos: 1500e6}) {
		t.Fatalf("duration %+v", e.Event.Duration)
	}
	if err := e.Validate(Limits{}); err != nil {
		t.Fatal(err)
	}
	if got := string(AppendJSON(nil, &e)); got != `{"event":{"duration":1500000000,"end":"2019-12-09T20:16:44.925Z","start":"2019-12-09T20:16:43.425Z"}}` {
		t.Fatalf("json %s", got)
	}
}
