package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/server"
)

// oldStore makes a stopped store with one segment for each of 2020-01-01
// to 2020-01-03, five app events each: long expired under any max age.
func oldStore(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for d := 1; d <= 3; d++ {
		var batch []eventlog.Event
		for i := range 5 {
			var e eventlog.Event
			e.Timestamp = event.DateOf(time.Date(2020, 1, d, 12, 0, i, 0, time.UTC))
			e.Event.Provider, e.Event.Action = "app", "act"
			batch = append(batch, e)
		}
		if _, err := db.Append(context.Background(), batch...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestHoldsOnStoppedStore creates, lists and releases a hold on a data
// directory, and checks that retention keeps what it holds meanwhile.
func TestHoldsOnStoppedStore(t *testing.T) {
	data := oldStore(t)
	code, out, errs := runCLI(t, "", "holds", "create", "--data", data, "--name", "inc-1", "--filter", "event.provider:app",
		"--start", "2020-01-02T00:00:00Z", "--end", "2020-01-02T23:59:59Z", "--reason", "INC-1 breach")
	if code != 0 || !strings.Contains(out, "hold inc-1") {
		t.Fatalf("create: exit %d, %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "holds", "list", "--data", data, "--format", "json")
	var list server.HoldsAnswer
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Holds) != 1 || list.Holds[0].Events != 5 || list.Holds[0].Reason != "INC-1 breach" {
		t.Fatalf("list: exit %d, %q %q (%v)", code, out, errs, err)
	}
	code, out, _ = runCLI(t, "", "retention", "--data", data, "--max-age", "30d", "--dry-run")
	if code != 0 || !strings.Contains(out, "kept ") || !strings.Contains(out, "would drop 2 segments") {
		t.Fatalf("retention --dry-run: exit %d:\n%s", code, out)
	}
	if code, out, _ = runCLI(t, "", "retention", "--data", data, "--max-age", "30d"); code != 0 || !strings.Contains(out, "dropped 2 segments") {
		t.Fatalf("retention: exit %d:\n%s", code, out)
	}
	if n := countWhere(t, data, "event.provider:app"); n != 5 {
		t.Fatalf("%d app events after retention, want the 5 held", n)
	}
	for _, bad := range [][]string{
		{"holds", "create", "--data", data, "--name", "x", "--filter", "event.provider:app"},
		{"holds", "list", "--data", data, "--reason", "r"},
		{"holds", "release", "--data", data},
		{"holds", "pause", "--data", data},
	} {
		if code, _, errs := runCLI(t, "", bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, %q; want a usage error", bad, code, errs)
		}
	}
	code, _, errs = runCLI(t, "", "holds", "create", "--data", data, "--name", "x", "--filter", "event.provider:app", "--reason", "r", "--start", "tomorrow-ish")
	if code != 1 || !strings.Contains(errs, "start") {
		t.Errorf("create with a bad start: exit %d, %q", code, errs)
	}
	if code, _, errs = runCLI(t, "", "holds", "release", "nope", "--data", data); code != 1 || !strings.Contains(errs, "no hold") {
		t.Errorf("release of an unknown hold: exit %d, %q", code, errs)
	}
	if code, out, errs = runCLI(t, "", "holds", "release", "inc-1", "--data", data); code != 0 || !strings.Contains(out, "released inc-1") {
		t.Fatalf("release: exit %d, %q %q", code, out, errs)
	}
	if code, out, _ = runCLI(t, "", "holds", "list", "--data", data); code != 0 || strings.Contains(out, "inc-1") {
		t.Fatalf("list after release: exit %d:\n%s", code, out)
	}
	if code, out, _ = runCLI(t, "", "retention", "--data", data, "--max-age", "30d"); code != 0 || !strings.Contains(out, "dropped 1 segment") {
		t.Fatalf("retention after release: exit %d:\n%s", code, out)
	}
	if n := countWhere(t, data, "event.provider:eventlog and event.action:(hold-create or hold-release)"); n != 2 {
		t.Fatalf("%d hold records, want create and release", n)
	}
}

// countWhere counts the events of a stopped store matching filter.
func countWhere(t *testing.T, data, filter string) int {
	t.Helper()
	db, err := eventlog.Open(data, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Aggregate(context.Background(), query.Request{Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}

// TestHoldsThroughServer: an admin key creates and releases holds through
// a server; an auditor key lists them but may not create one.
func TestHoldsThroughServer(t *testing.T) {
	dir := oldStore(t)
	store, err := auth.Open(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, secret, err := store.Create(auth.Spec{Name: "admin", Role: auth.Admin}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	aud, audSecret, err := store.Create(auth.Spec{Name: "aud", Role: auth.Auditor}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	db, err := eventlog.Open(dir, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := httptest.NewServer(server.New(db, server.Config{Keys: store}, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer ts.Close()
	adminKey, audKey := auth.Encoded(admin.ID, secret), auth.Encoded(aud.ID, audSecret)
	create := []string{"holds", "create", "--url", ts.URL, "--name", "inc-2", "--filter", "event.provider:app", "--start", "2020-01-03T00:00:00Z", "--reason", "INC-2"}
	if code, _, errs := runCLI(t, "", append(create, "--api-key", audKey)...); code != 1 || !strings.Contains(errs, "admin") {
		t.Fatalf("create with an auditor key: exit %d, %q", code, errs)
	}
	if code, out, errs := runCLI(t, "", append(create, "--api-key", adminKey)...); code != 0 || !strings.Contains(out, "hold inc-2") {
		t.Fatalf("create --url: exit %d, %q %q", code, out, errs)
	}
	code, out, errs := runCLI(t, "", "holds", "list", "--url", ts.URL, "--api-key", audKey)
	if code != 0 || !strings.Contains(out, "inc-2") || !strings.Contains(out, "INC-2") {
		t.Fatalf("list with an auditor key: exit %d, %q %q", code, out, errs)
	}
	if len(db.Holds()) != 1 {
		t.Fatalf("the server's store has %d holds, want 1", len(db.Holds()))
	}
	if code, _, errs := runCLI(t, "", "holds", "release", "inc-2", "--url", ts.URL, "--api-key", adminKey); code != 0 {
		t.Fatalf("release --url: %q", errs)
	}
	if len(db.Holds()) != 0 {
		t.Fatal("the hold is still in force in the server's store")
	}
	// The server audited who created and released it; the engine recorded
	// both changes.
	for _, f := range []string{
		"event.action:hold-create-request and user.name:admin",
		"event.action:hold-release-request and labels.hold:inc-2 and user.name:admin",
		"event.action:hold-create and labels.hold:inc-2",
		"event.action:hold-release and labels.hold:inc-2",
	} {
		res, err := db.Aggregate(context.Background(), query.Request{Filter: "event.provider:eventlog and " + f})
		if err != nil || res.Total == 0 {
			t.Errorf("no audit event %s (%v)", f, err)
		}
	}
}
