package destination

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventlogdb/eventlog/internal/sealed"
)

// TestSecretsAreSealedOnDisk: a destination's secret and header values
// reach no file in the clear, survive a restart (the receiver still gets
// the right signature and token), are hidden from Status, and do not
// open under another key.
func TestSecretsAreSealedOnDisk(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t, secret: "sign-with-this-0123"}
	var mu sync.Mutex
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	const token = "Bearer token-abcdef-98765"
	cfg := Config{Name: "siem", URL: srv.URL, Secret: rc.secret, Headers: map[string]string{"Authorization": token}, Start: "beginning"}

	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Put(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Secret != "" || !st.HasSecret || st.Headers["Authorization"] != HiddenValue {
		t.Fatalf("Status shows %+v", st)
	}
	m.Close()
	assertNoFileHolds(t, dir, rc.secret, "token-abcdef-98765")

	if _, err := Open(db, dir+"/dest", nil, Options{SecretsKey: []byte(strings.Repeat("x", 32))}); !errors.Is(err, sealed.ErrOpen) {
		t.Fatalf("open under another key: %v, want ErrOpen", err)
	}
	if _, err := Open(db, dir+"/dest", nil, Options{}); !errors.Is(err, ErrNoSecretsKey) {
		t.Fatalf("open with no key: %v, want ErrNoSecretsKey", err)
	}
	m, err = Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	appendN(t, db, 0, 3)
	waitFor(t, "delivery", func() bool { return len(rc.delivered()) == 3 })
	mu.Lock()
	defer mu.Unlock()
	for _, got := range gotAuth {
		if got != token {
			t.Fatalf("the receiver got Authorization %q, want the token", got)
		}
	}
}

// TestClearSecretsAreSealedAtStart: a config written in the clear (by a
// version that did not seal) is sealed at the next start with a key, and
// left working, with a warning, without one.
func TestClearSecretsAreSealedAtStart(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	if err := os.MkdirAll(dir+"/dest", 0o755); err != nil {
		t.Fatal(err)
	}
	legacy := `{"name":"old","url":"http://127.0.0.1:9/","secret":"legacy-secret-555","headers":{"X-Token":"legacy-token-777"}}`
	if err := os.WriteFile(dir+"/dest/old.json", []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Open(db, dir+"/dest", nil, Options{})
	if err != nil {
		t.Fatalf("no key, clear config: %v", err)
	}
	m.Close()
	if b, _ := os.ReadFile(dir + "/dest/old.json"); string(b) != legacy {
		t.Fatalf("without a key the config changed: %s", b)
	}
	m, err = Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	assertNoFileHolds(t, dir, "legacy-secret-555", "legacy-token-777")
	m, err = Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w := m.ws["old"].w
	if w.cfg.Secret != "legacy-secret-555" || w.cfg.Headers["X-Token"] != "legacy-token-777" {
		t.Fatalf("after sealing the worker has %q %v", w.cfg.Secret, w.cfg.Headers)
	}
}

// TestPutWithoutKeyRefusesSecrets: with no key, a destination with a
// secret or headers is refused and nothing is written; one without is
// accepted.
func TestPutWithoutKeyRefusesSecrets(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	m, err := Open(db, dir+"/dest", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range []Config{
		{Name: "a", URL: "http://127.0.0.1:9/", Secret: "s3cret-value-1"},
		{Name: "b", URL: "http://127.0.0.1:9/", Headers: map[string]string{"Authorization": "Bearer t"}},
	} {
		if _, err := m.Put(c); !errors.Is(err, ErrNoSecretsKey) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("Put(%s) = %v, want ErrInvalid and ErrNoSecretsKey", c.Name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "dest", c.Name+".json")); !os.IsNotExist(err) {
			t.Fatalf("a refused destination left %s.json: %v", c.Name, err)
		}
	}
	if _, err := m.Put(Config{Name: "plain", URL: "http://127.0.0.1:9/"}); err != nil {
		t.Fatal(err)
	}
}

func assertNoFileHolds(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in the clear", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
