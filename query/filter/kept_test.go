package filter

import (
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// TestMatchKept checks conditions on kept unknown fields against events
// decoded with KeepUnknown: each value type, arrays, dotted and nested
// keys, and that the filter reads only the kept-fields column for them.
func TestMatchKept(t *testing.T) {
	decode := func(doc string) *event.Event {
		e, err := event.DecodeWith([]byte(doc), event.DecodeOptions{KeepUnknown: true})
		if err != nil {
			t.Fatalf("DecodeWith(%s): %v", doc, err)
		}
		return &e
	}
	vector := decode(`{"event":{"action":"a"},"syslog":{"facility":"local0","severity":3},"process":{"pid":4242,"args":["-v","--x"],"ratio":0.25},"agent":{"name":"vector-0.3","up":true},"host":{"os":{"family":"linux"}},"log.file":{"path":"/var/log/x"},"n":null,"when":"2024-05-01T10:00:00Z","big":123456789012345678901}`)
	other := decode(`{"event":{"action":"a"},"syslog":{"facility":"local7"},"process":{"pid":"4242"},"agent":{"name":"fluent-bit"}}`)
	plain := decode(`{"event":{"action":"a"}}`)
	cases := []struct {
		filter string
		want   [3]bool // vector, other, plain
	}{
		{`syslog.facility:local0`, [3]bool{true, false, false}},
		{`syslog.facility:(local0 or local7)`, [3]bool{true, true, false}},
		{`process.pid:4242`, [3]bool{true, true, false}}, // number and string "4242"
		{`process.pid:4242.0`, [3]bool{true, false, false}},
		{`process.pid > 100`, [3]bool{true, false, false}}, // a string is not a number
		{`process.pid <= 4242 and process.pid >= 4242`, [3]bool{true, false, false}},
		{`process.ratio < 0.5`, [3]bool{true, false, false}},
		{`big > 9223372036854775807`, [3]bool{true, false, false}},
		{`process.args:--x`, [3]bool{true, false, false}},
		{`agent.name:vector*`, [3]bool{true, false, false}},
		{`agent.up:true`, [3]bool{true, false, false}},
		{`agent.up:false`, [3]bool{false, false, false}},
		{`host.os.family:linux`, [3]bool{true, false, false}},
		{`log.file.path:"/var/log/x"`, [3]bool{true, false, false}},
		{`when >= "2024-01-01"`, [3]bool{true, false, false}},
		{`syslog:*`, [3]bool{true, true, false}},
		{`syslog.severity:*`, [3]bool{true, false, false}},
		{`n:*`, [3]bool{false, false, false}},
		{`not syslog.facility:local0`, [3]bool{false, true, true}},
		{`nothing.here:x`, [3]bool{false, false, false}},
		{`event.action:a and syslog.facility:local7`, [3]bool{false, true, false}},
	}
	for _, c := range cases {
		f, err := Parse(c.filter)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.filter, err)
			continue
		}
		for i, ev := range []*event.Event{vector, other, plain} {
			if got := f.Match(ev); got != c.want[i] {
				t.Errorf("%s on event %d = %v, want %v", c.filter, i, got, c.want[i])
			}
			if got := f.Match(project(ev, f.Fields())); got != c.want[i] {
				t.Errorf("%s on event %d with only %s decoded = %v, want %v", c.filter, i, fieldNames(f.Fields()), got, c.want[i])
			}
		}
	}
	if f, _ := Parse(`syslog.facility:local0`); len(f.Fields()) != 1 || f.Fields()[0].ID != event.ExtraFieldID || f.String() != `(match syslog.facility "local0")` {
		t.Errorf("fields %s, string %s", fieldNames(f.Fields()), f.String())
	}
}
