package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/server"
)

// TestKeysOnStoppedStore makes, lists and revokes keys on a data
// directory, the first one before the store exists, and checks what is
// printed, what is refused and what the store records.
func TestKeysOnStoppedStore(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errs := runCLI(t, "", "keys", "create", "--data", data, "--name", "admin", "--role", "admin")
	if code != 0 || errs != "" {
		t.Fatalf("create: exit %d, %q", code, errs)
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	id, secret, ok := strings.Cut(string(dec), ":")
	if err != nil || !ok || len(secret) != 43 || strings.Count(out, "\n") != 1 {
		t.Fatalf("create printed %q: want base64(id:secret) on one line", out)
	}
	code, out, _ = runCLI(t, "", "keys", "--data", data, "--format", "json", "create", "--name", "team a", "--role", "reader", "--space", "team-a", "--expires", "90d")
	var created server.KeyCreated
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil || created.Encoded != auth.Encoded(created.ID, created.APIKey) ||
		created.Role != auth.Reader || len(created.Spaces) != 1 || created.Expiration.IsZero() {
		t.Fatalf("create --format json: exit %d, %q (%v)", code, out, err)
	}
	if code, _, errs := runCLI(t, "", "keys", "revoke", created.ID, "--data", data); code != 0 {
		t.Fatalf("revoke: %q", errs)
	}
	code, out, _ = runCLI(t, "", "keys", "list", "--data", data)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "team-a") || !strings.Contains(out, "revoked") ||
		strings.Contains(out, secret) || strings.Contains(out, created.APIKey) {
		t.Fatalf("list: exit %d:\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"keys", "create", "--data", data, "--name", "x", "--role", "root"},
		{"keys", "create", "--data", data, "--role", "reader"},
		{"keys", "list", "--data", data, "--role", "reader"},
		{"keys", "revoke", "--data", data},
		{"keys", "rotate", "--data", data},
	} {
		if code, _, errs := runCLI(t, "", bad...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, %q; want a usage error", bad, code, errs)
		}
	}
	code, _, errs = runCLI(t, "", "keys", "revoke", "no-such-id", "--data", data)
	if code != 1 || !strings.Contains(errs, "no such key") {
		t.Errorf("revoke of an unknown id: exit %d, %q", code, errs)
	}
	// The store records who made and revoked keys.
	code, out, _ = runCLI(t, "", "query", "--data", data, "--filter", "event.provider:eventlog", "--format", "table")
	if code != 0 || strings.Count(out, server.ActionKeyCreate) != 2 || strings.Count(out, server.ActionKeyRevoke) != 1 {
		t.Errorf("audit events: exit %d:\n%s", code, out)
	}
	// A running store's keys are changed through it.
	db, err := eventlog.Open(data, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errs = runCLI(t, "", "keys", "create", "--data", data, "--name", "x", "--role", "reader")
	if code != 1 || !strings.Contains(errs, "--url") {
		t.Errorf("create on an open store: exit %d, %q; want a refusal pointing to --url", code, errs)
	}
}

// TestKeysThroughServer manages keys through a server's API with an admin
// key given as --api-key or $EVENTLOG_API_KEY.
func TestKeysThroughServer(t *testing.T) {
	dir := t.TempDir()
	store, err := auth.Open(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, secret, err := store.Create(auth.Spec{Name: "admin", Role: auth.Admin}, time.Now())
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

	code, _, errs := runCLI(t, "", "keys", "list", "--url", ts.URL)
	if code != 1 || !strings.Contains(errs, "no credentials") {
		t.Fatalf("list without a key: exit %d, %q", code, errs)
	}
	encoded := auth.Encoded(admin.ID, secret)
	code, out, errs := runCLI(t, "", "keys", "create", "--url", ts.URL, "--api-key", encoded, "--name", "ci", "--role", "writer", "--expires", "30d")
	if code != 0 {
		t.Fatalf("create --url: exit %d, %q", code, errs)
	}
	dec, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	ciID, _, _ := strings.Cut(string(dec), ":")
	t.Setenv("EVENTLOG_API_KEY", encoded)
	code, out, errs = runCLI(t, "", "keys", "list", "--url", ts.URL)
	if code != 0 || !strings.Contains(out, ciID) || !strings.Contains(out, "writer") {
		t.Fatalf("list with $EVENTLOG_API_KEY: exit %d, %q %q", code, out, errs)
	}
	// The new writer key may ingest but not manage keys.
	t.Setenv("EVENTLOG_API_KEY", strings.TrimSpace(mustCreate(t, ts.URL, encoded)))
	code, _, errs = runCLI(t, "", "keys", "list", "--url", ts.URL)
	if code != 1 || !strings.Contains(errs, "needs the admin role") {
		t.Errorf("list with a writer key: exit %d, %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "keys", "revoke", ciID, "--url", ts.URL, "--api-key", encoded); code != 0 {
		t.Fatalf("revoke --url: %q", errs)
	}
	if k, _ := store.Get(ciID); k.Revoked.IsZero() {
		t.Error("the key is not revoked in the server's store")
	}
}

// mustCreate makes a writer key through the server and returns its
// encoded form.
func mustCreate(t *testing.T, url, admin string) string {
	t.Helper()
	code, out, errs := runCLI(t, "", "keys", "create", "--url", url, "--api-key", admin, "--name", "w", "--role", "writer")
	if code != 0 {
		t.Fatalf("create: %q", errs)
	}
	return out
}

// TestServeRefusesKeylessStoreOffLoopback: without keys, serve allows a
// loopback address, refuses any other with a message saying how to make
// the first key, unless --insecure-no-auth.
func TestServeRefusesKeylessStoreOffLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := &serveConfig{data: t.TempDir()}
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9700}
	wild := &net.TCPAddr{IP: net.IPv4zero, Port: 9700}
	if _, err := openKeys(cfg, loop, log); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	_, err := openKeys(cfg, wild, log)
	if err == nil || !strings.Contains(err.Error(), "eventlog keys create --data "+cfg.data+" --name admin --role admin") {
		t.Fatalf("0.0.0.0 without keys: %v", err)
	}
	cfg.insecureNoAuth = true
	if _, err := openKeys(cfg, wild, log); err != nil {
		t.Fatalf("--insecure-no-auth: %v", err)
	}
	cfg.insecureNoAuth = false
	if code, _, errs := runCLI(t, "", "keys", "create", "--data", cfg.data, "--name", "a", "--role", "admin"); code != 0 {
		t.Fatal(errs)
	}
	if _, err := openKeys(cfg, wild, log); err != nil {
		t.Fatalf("with a key: %v", err)
	}
}
