package eventlog

import (
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

func TestLoggerMergesDefaults(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{})
	db.RegisterProviderActions("actions", "execute")
	var defaults Event
	defaults.Event.Provider = "actions"
	defaults.Kibana.ServerUUID = "server-1"
	defaults.Labels = map[string]string{"env": "prod", "team": "a"}
	defaults.Tags = event.Strings("default-tag")
	lg := db.Logger(defaults)

	var e Event
	e.Event.Action = "execute"
	e.Kibana.ServerUUID = "own"
	e.Labels = map[string]string{"team": "b"}
	lg.Log(e)
	bad := e
	bad.Event.Action = "unregistered"
	lg.Log(bad)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s := db.Stats(); s.LoggerErrors != 1 || s.LoggerDropped != 0 {
		t.Fatalf("stats = %+v, want 1 error, 0 dropped", s)
	}
	if e.Event.Provider != "" || len(e.Labels) != 1 {
		t.Fatal("Log modified the caller's event")
	}

	db = mustOpen(t, dir, Options{ReadOnly: true})
	got := findAll(t, db, FindRequest{})
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	g := got[0].Event
	if g.Event.Provider != "actions" || g.Event.Action != "execute" || g.Kibana.ServerUUID != "own" ||
		g.Labels["env"] != "prod" || g.Labels["team"] != "b" || g.Tags.Values[0] != "default-tag" || g.Timestamp.IsZero() {
		t.Fatalf("merged event = %+v", g)
	}
}

func TestLoggerDropsWhenQueueStaysFull(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, LoggerQueue: 2, LoggerBlock: time.Millisecond})
	// Replace the queue with one nobody drains yet, so it stays full.
	db.loggers.stop()
	q := newLoggerQueue(db)
	db.loggers = q
	lg := db.Logger(ev("p", "a", ""))
	for range 5 {
		lg.Log(Event{})
	}
	if d := db.Stats().LoggerDropped; d != 3 {
		t.Fatalf("dropped %d, want 3 (queue of 2, 5 events)", d)
	}
	go q.run()
	db.Close() // drains the 2 queued events
	if s := db.Stats(); s.HeadEvents+s.SegmentEvents != 2 {
		t.Fatalf("%d events stored, want the 2 queued ones", s.HeadEvents+s.SegmentEvents)
	}
}
