package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/syncbuf"

	"github.com/eventlogdb/eventlog/auth"
)

// TestSecretsNeverLeak makes a key through the API, uses it rightly and
// wrongly (a wrong secret, the secret sent as the id, Basic), sets a
// destination with a secret, then looks for the secrets everywhere they
// must not be: every file of the data directory (the WAL and segments
// hold the audit events), the debug log, every answer after the one that
// created the key, and every stored event.
func TestSecretsNeverLeak(t *testing.T) {
	a := newAccessEnv(t, Config{})
	var logs syncbuf.Buffer
	cfg := a.srv.cfg
	a.srv = New(a.db, cfg, NewMetrics(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a.ts.Close()
	a.ts = httptest.NewServer(a.srv.Handler())
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	var created KeyCreated
	a.call("POST", "/api/_security/api_key", ctJSON, `{"name":"leak-check","role":"writer"}`, "admin").decode(t, &created)
	const destSecret = "destination-secret-0123456789"
	a.headers["new"] = "ApiKey " + created.Encoded
	a.headers["swapped"] = "ApiKey " + auth.Encoded(created.APIKey, created.ID)
	a.headers["wrong-new"] = "ApiKey " + auth.Encoded(created.ID, created.APIKey[:40]+"abc")
	a.headers["basic"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(created.ID+":"+created.APIKey))
	var answers []response
	for _, c := range []struct{ method, path, ct, body, cred string }{
		{"POST", "/api/events", ctJSON, `{"event":{"provider":"alerting","action":"execute"}}`, "new"},
		{"GET", "/api/providers", "", "", "basic"},
		{"GET", "/api/providers", "", "", "swapped"},
		{"GET", "/api/providers", "", "", "wrong-new"},
		{"PUT", "/api/destinations/d1", ctJSON, `{"url":"` + a.sink.URL + `","secret":"` + destSecret + `"}`, "admin"},
		{"GET", "/api/destinations/d1", "", "", "admin"},
		{"GET", "/api/destinations", "", "", "admin"},
		{"GET", "/api/_security/api_key", "", "", "admin"},
		{"GET", "/api/_stats", "", "", "admin"},
		{"GET", "/metrics", "", "", "admin"},
	} {
		answers = append(answers, a.call(c.method, c.path, c.ct, c.body, c.cred))
	}
	a.srv.flushAudit(ctx, time.Now())
	if got := a.call("POST", "/api/_roll", "", "", "admin"); got.status != http.StatusOK {
		t.Fatalf("roll: %d %s", got.status, got.body)
	}
	answers = append(answers, a.call("GET", "/api/events/_export", "", "", "admin"))
	if !strings.Contains(string(answers[len(answers)-1].body), ActionKeyCreate) {
		t.Fatal("the export lacks the audit events it is meant to check")
	}
	keySecrets := []string{created.APIKey, created.Encoded}
	for i, ans := range answers {
		for _, s := range append(keySecrets, destSecret) {
			if strings.Contains(string(ans.body), s) || strings.Contains(headerText(ans.header), s) {
				t.Errorf("answer %d holds a secret: %s", i, ans.body)
			}
		}
	}
	for _, s := range append(keySecrets, destSecret) {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds a secret:\n%s", logs.String())
		}
	}
	// No file holds a secret in the clear: destinations/NAME.json holds
	// the destination's secret sealed (package internal/sealed).
	err := filepath.WalkDir(a.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range append(keySecrets, destSecret) {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}
