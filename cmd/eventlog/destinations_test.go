package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/destination"
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
