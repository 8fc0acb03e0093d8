package privacy_test

import (
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkEvent is the ingest cost of pseudonymising one event with three
// personal fields (one HMAC-SHA256 each, and a copy of the event).
func BenchmarkEvent(b *testing.B) {
	p := mustNew(b, nil)
	ev := &event.Event{}
	ev.Event.Provider, ev.Event.Action = "security", "login"
	ev.User.Name, ev.User.Email, ev.Source.IP = "alice", "alice@example.com", "10.1.2.3"
	b.ReportAllocs()
	for b.Loop() {
		if p.Event(ev) == ev {
			b.Fatal("not pseudonymised")
		}
	}
}

// BenchmarkEventWithoutPersonalFields is the cost for an event that has
// none: the check alone.
func BenchmarkEventWithoutPersonalFields(b *testing.B) {
	p := mustNew(b, nil)
	ev := &event.Event{}
	ev.Event.Provider, ev.Event.Action = "alerting", "execute"
	b.ReportAllocs()
	for b.Loop() {
		if p.Event(ev) != ev {
			b.Fatal("copied")
		}
	}
}
