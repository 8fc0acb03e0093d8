package filter

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventlogdb/eventlog/event"
)

// fuzzSeeds are filters from the tables, valid and not.
var fuzzSeeds = []string{
	``, `event.action:execute`, `event.action:"a \"b\" \\ c"`, `event.action:a\*b`, `message:disk full`,
	`"disk full"`, `time*`, `*`, `event.action:(a or (b and not c*))`, `not not tags:x`,
	`event.duration >= 1000000`, `@timestamp < "2024-05-01T02:00:00.5+02:00"`, `event.risk_score < 1e3`,
	`kibana.saved_objects:{ type: "alert" and id: "abc" }`, `kibana.saved_objects.namespace:default`,
	`labels.my\ key:x`, `client.ip:"::1"`, `source.ip:10.0.0.0/8`, `größe or ΣΊΣΥΦΟΣ`,
	`event.action: `, `event.action:"abc`, `(event.action:a`, `event.action:a and )`, `event.acton:x`,
	`event.action:a tags:b`, `event.action:a*b`, `*:x`, `kibana.saved_objects:{ type:{ id:x } }`,
	`event.sequence:abc`, `@timestamp < 2024-05-01T00:00:00Z`, `event.action:a\`, "tags:a\n\tOR\ttags:b",
	strings.Repeat("(", MaxDepth+1) + "tags:a", strings.Repeat("not ", MaxDepth+1) + "a",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	ev := fullEvent(f)
	f.Fuzz(func(t *testing.T, text string) {
		got, err := Parse(text)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%q) error %v is %T, not *Error", text, err, err)
			}
			if n := utf8.RuneCountInString(text); fe.Pos < 1 || fe.Pos > n+1 {
				t.Fatalf("Parse(%q): position %d outside 1..%d", text, fe.Pos, n+1)
			}
			return
		}
		s := got.String()
		again, err := Parse(text)
		if err != nil || again.String() != s {
			t.Fatalf("Parse(%q) is not stable: %s then %v, %v", text, s, again, err)
		}
		// The compiled tree is what New accepts, and runs without panicking.
		if _, err := New(got.Root); err != nil {
			t.Fatalf("New(Parse(%q).Root): %v", text, err)
		}
		got.Match(ev)
		got.Match(&event.Event{})
		got.Fields()
	})
}
