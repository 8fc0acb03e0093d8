package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/server"
)

// TestIntegrityCLI: pubkey, head and proof print what verify --head
// --pubkey then checks the store against; a deleted event is reported
// with its position.
func TestIntegrityCLI(t *testing.T) {
	data := signedStore(t, "m%d", 20)
	away := t.TempDir() // what a cron job copied away
	code, pub, _ := runCLI(t, "", "integrity", "pubkey", "--data", data)
	if code != 0 || !strings.Contains(pub, "BEGIN PUBLIC KEY") {
		t.Fatalf("pubkey: %d %s", code, pub)
	}
	code, head, _ := runCLI(t, "", "integrity", "head", "--data", data)
	if code != 0 || !strings.Contains(head, `"tree_size": 20`) {
		t.Fatalf("head: %d %s", code, head)
	}
	writeFile(t, filepath.Join(away, "pub.pem"), pub)
	writeFile(t, filepath.Join(away, "head.json"), head)
	if code, out, _ := runCLI(t, "", "integrity", "proof", eventlog.IDOf(3), "--data", data); code != 0 || !strings.Contains(out, `"leaf_index": 2`) {
		t.Fatalf("proof: %d %s", code, out)
	}
	args := []string{"verify", "--data", data, "--head", filepath.Join(away, "head.json"), "--pubkey", filepath.Join(away, "pub.pem")}
	if code, out, _ := runCLI(t, "", args...); code != 0 || !strings.Contains(out, "chain ok (20 leaves: 20 recomputed") {
		t.Fatalf("verify clean: %d %s", code, out)
	}
	// A delete by query erases event 7: its leaf stays, and verify names
	// the position and the delete's record.
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Delete(context.Background(), eventlog.DeleteRequest{Filter: `message:"m6"`})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ := runCLI(t, "", args...)
	if code != 0 || !strings.Contains(out, "erased: leaf 6, event "+eventlog.IDOf(7)+" (seq 7), by the delete recorded as event "+eventlog.IDOf(res.Seq)) {
		t.Fatalf("verify after a delete: %d %s", code, out)
	}
	// Removed behind the engine's back (the leaf log says event 7 is
	// still there when the erasure record is gone): reported with its
	// position.
	if err := os.Remove(filepath.Join(data, eventlog.IntegrityDir, "ERASURES")); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "", args...)
	if code != 1 || !strings.Contains(out, "problem: missing: leaf 6, event "+eventlog.IDOf(7)) {
		t.Fatalf("verify after a removal: %d %s", code, out)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBundleCLI: export --bundle writes a bundle verify-bundle accepts
// with the trusted key, and refuses once an event in it is changed.
func TestBundleCLI(t *testing.T) {
	data := signedStore(t, "incident step %d", 6)
	dir := t.TempDir()
	_, pub, _ := runCLI(t, "", "integrity", "pubkey", "--data", data)
	writeFile(t, filepath.Join(dir, "pub.pem"), pub)
	bundle := filepath.Join(dir, "b.tar")
	if code, _, errOut := runCLI(t, "", "export", "--data", data, "--filter", `message:"incident step 2" or message:"incident step 4"`, "--bundle", bundle); code != 0 {
		t.Fatalf("export --bundle: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "", "verify-bundle", "--pubkey", filepath.Join(dir, "pub.pem"), bundle); code != 0 || !strings.Contains(out, "ok: 2 events proven in the tree of size 6") {
		t.Fatalf("verify-bundle: %d %s", code, out)
	}
	b, _ := os.ReadFile(bundle)
	writeFile(t, bundle, strings.Replace(string(b), "incident step 4", "incident step 5", 1))
	if code, out, _ := runCLI(t, "", "verify-bundle", "--pubkey", filepath.Join(dir, "pub.pem"), bundle); code != 1 || !strings.Contains(out, "proofs.ndjson line 2") {
		t.Fatalf("verify-bundle of a changed bundle: %d %s", code, out)
	}
}

// signedStore makes a store with the tree of n events, messages format
// of their index, with a head signed over them all.
func signedStore(t *testing.T, format string, n int) string {
	t.Helper()
	data := t.TempDir()
	db, err := eventlog.Open(data, eventlog.Options{Integrity: true, AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := eventlog.Event{Message: fmt.Sprintf(format, i)}
		e.Event.Provider, e.Event.Action = "p", "a"
		if _, err := db.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestIntegrityCLIThroughServer: head, heads, proof and consistency with
// --url print what they print on the data directory (the server's store),
// with an auditor key; a reader key is refused, as head --sign is to an
// auditor and done for an admin; pubkey is not fetched from the server.
func TestIntegrityCLIThroughServer(t *testing.T) {
	data := signedStore(t, "m%d", 20)
	_, pub, _ := runCLI(t, "", "integrity", "pubkey", "--data", data)
	local := map[string]string{}
	cmds := map[string][]string{
		"head": {"integrity", "head"}, "heads": {"integrity", "heads"},
		"proof": {"integrity", "proof", eventlog.IDOf(3)}, "consistency": {"integrity", "consistency", "5", "20"},
		"proof at 20": {"integrity", "proof", eventlog.IDOf(3), "--tree-size", "20"},
	}
	for name, args := range cmds {
		code, out, errs := runCLI(t, "", append(args, "--data", data)...)
		if code != 0 {
			t.Fatalf("%s --data: exit %d, %s", name, code, errs)
		}
		local[name] = out
	}
	store, err := auth.Open(nil, data)
	if err != nil {
		t.Fatal(err)
	}
	key := func(role auth.Role) string {
		k, secret, err := store.Create(auth.Spec{Name: role.String(), Role: role}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return auth.Encoded(k.ID, secret)
	}
	adminKey, audKey, readerKey := key(auth.Admin), key(auth.Auditor), key(auth.Reader)
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := httptest.NewServer(server.New(db, server.Config{Keys: store}, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer ts.Close()
	for name, args := range cmds {
		code, out, errs := runCLI(t, "", append(args, "--url", ts.URL, "--api-key", audKey)...)
		if code != 0 || out != local[name] {
			t.Fatalf("%s --url: exit %d %s\n%s\nwant what --data printed:\n%s", name, code, errs, out, local[name])
		}
	}
	if code, _, errs := runCLI(t, "", "integrity", "head", "--url", ts.URL, "--api-key", readerKey); code != 1 || !strings.Contains(errs, "403") && !strings.Contains(errs, "role") {
		t.Fatalf("head with a reader key: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "integrity", "head", "--sign", "--url", ts.URL, "--api-key", audKey); code != 1 {
		t.Fatalf("head --sign with an auditor key: exit %d, %s", code, errs)
	}
	heads := len(mustHeads(t, db))
	if code, out, errs := runCLI(t, "", "integrity", "head", "--sign", "--url", ts.URL, "--api-key", adminKey); code != 0 || !strings.Contains(out, `"tree_size": 20`) || len(mustHeads(t, db)) != heads+1 {
		t.Fatalf("head --sign with an admin key: exit %d, %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "integrity", "pubkey", "--url", ts.URL, "--api-key", adminKey); code != 2 || !strings.Contains(errs, "proves nothing") {
		t.Fatalf("pubkey --url: exit %d, %s", code, errs)
	}
	// export --bundle --url: the server's bundle, which verify-bundle
	// accepts with the key taken from the data directory; a reader key
	// gets no file.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pub.pem"), pub)
	bundle := filepath.Join(dir, "b.tar")
	sel := []string{"export", "--url", ts.URL, "--filter", `message:"m2" or message:"m4"`, "--bundle", bundle}
	if code, _, errs := runCLI(t, "", append(sel, "--api-key", readerKey)...); code != 1 || fileExists(bundle) {
		t.Fatalf("export --bundle --url with a reader key: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", append(sel, "--api-key", audKey)...); code != 0 {
		t.Fatalf("export --bundle --url: exit %d, %s", code, errs)
	}
	if code, out, _ := runCLI(t, "", "verify-bundle", "--pubkey", filepath.Join(dir, "pub.pem"), bundle); code != 0 || !strings.Contains(out, "ok: 2 events proven in the tree of size 20") {
		t.Fatalf("verify-bundle of the server's bundle: %d %s", code, out)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func mustHeads(t *testing.T, db *eventlog.DB) []integrity.SignedHead {
	t.Helper()
	l, err := db.Integrity()
	if err != nil {
		t.Fatal(err)
	}
	return l.Heads(0, 0)
}

// TestIntegrityCompactCLI: integrity compact runs on a data directory and
// prints what it did (nothing to pack in a store of one partial leaf
// file), leaves the store verifying, and is refused over --url.
func TestIntegrityCompactCLI(t *testing.T) {
	data := signedStore(t, "m%d", 20)
	code, out, errs := runCLI(t, "", "integrity", "compact", "--data", data)
	if code != 0 || !strings.Contains(out, `"tiles": 0`) || !strings.Contains(out, `"bytes_before": 896`) {
		t.Fatalf("compact: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "verify", "--chain", "--data", data); code != 0 || !strings.Contains(out, "chain ok") {
		t.Fatalf("verify after compact: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "", "integrity", "compact", "--url", "http://127.0.0.1:1"); code != 2 || !strings.Contains(errs, "not over --url") {
		t.Fatalf("compact over --url: %d %s", code, errs)
	}
}
