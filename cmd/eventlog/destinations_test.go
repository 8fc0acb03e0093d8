package main

import (
	"context"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/destination"
	"github.com/eventlogdb/eventlog/event"
)

// TestServeConfigDestinations: the config file's destinations: list is
// read strictly, naming the line of a mistake.
func TestServeConfigDestinations(t *testing.T) {
	file := writeConfig(t, `addr: 127.0.0.1:0
destinations:
  - name: siem
    url: https://siem.example.com/in
    secret: s3cr3t
    filter: event.outcome:failure
    batch_size: 10
    max_delay: 50ms
    format: json
    headers:
      Authorization: Bearer x
    max_attempts: 3
    start: beginning
  - name: archive
    url: http://127.0.0.1:9/
`)
	c, err := loadServeConfig([]string{"--config", file}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := fixedDestinations{
		{Name: "siem", URL: "https://siem.example.com/in", Secret: "s3cr3t", Filter: "event.outcome:failure", BatchSize: 10,
			MaxDelay: destination.Duration(50 * time.Millisecond), Format: "json", Headers: map[string]string{"Authorization": "Bearer x"},
			MaxAttempts: 3, Start: "beginning"},
		{Name: "archive", URL: "http://127.0.0.1:9/"},
	}
	if !reflect.DeepEqual(c.destinations, want) || c.addr != "127.0.0.1:0" {
		t.Fatalf("got %+v", c.destinations)
	}

	for text, msg := range map[string]string{
		"destinations:\n  - name: a\n    url: http://x\n    batchsize: 3\n": `:4: destinations: unknown key "batchsize" (a destination has name, url, filter, secret, batch_size, max_delay, format, headers, max_attempts, start)`,
		"destinations: http://x\n":                          ":1: destinations: want a list of destinations",
		"destinations:\n  - http://x\n":                     ":2: destinations: want a destination",
		"destinations:\n  - name: a\n    max_delay: soon\n": `destinations: duration "soon"`,
		"destinations: []\ndestinations: []\n":              ":2: destinations is already set on line 1",
	} {
		_, err := loadServeConfig([]string{"--config", writeConfig(t, text)}, envMap(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: got %v, want %q", text, err, msg)
		}
	}
}

// TestDestinationsHoldRetention: serve's destinations register the
// retention floor: a segment whose events a destination has not
// delivered is kept past its age, and dropped once nothing holds it.
func TestDestinationsHoldRetention(t *testing.T) {
	data := t.TempDir()
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true, RetentionMaxAge: time.Hour, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := make([]eventlog.Event, 3)
	for i := range old {
		old[i].Timestamp, _ = event.ParseDate("2024-05-01T14:00:00Z")
		old[i].Event.Provider, old[i].Event.Action = "alerting", "execute"
	}
	if _, err := db.Append(context.Background(), old...); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan := func() int {
		t.Helper()
		p, err := db.PlanRetention()
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if plan() != 1 {
		t.Fatal("the old segment is not due for retention")
	}
	// A receiver that is down: nothing gets delivered.
	c := &serveConfig{data: data, destinations: fixedDestinations{{Name: "down", URL: "http://127.0.0.1:1/", Start: "beginning"}}}
	m, err := openDestinations(db, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := plan(); n != 0 {
		t.Fatalf("retention would drop %d segments a destination has not delivered", n)
	}
	if floor := deliveryFloor(m)(); floor != 0 {
		t.Fatalf("floor %d", floor)
	}
	m.Close()
	// Without destinations nothing holds retention back.
	c.destinations = nil
	m, err = openDestinations(db, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if floor := deliveryFloor(m)(); floor != math.MaxUint64 || plan() != 1 {
		t.Fatalf("floor %d, plan %d", floor, plan())
	}
}
