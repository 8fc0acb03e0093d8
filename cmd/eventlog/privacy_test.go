package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a buffer the server's logger writes while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const personalEvents = `{"@timestamp":"2026-12-01T10:00:00Z","event":{"provider":"security","action":"login"},"user":{"name":"alice","email":"alice@example.com"},"source":{"ip":"10.1.2.3"},"kibana":{"space_ids":["team-a"]}}
{"@timestamp":"2026-12-01T10:01:00Z","event":{"provider":"security","action":"login"},"user":{"name":"bob"},"client":{"ip":"::1"}}
`

// A server with a pseudonym key: every way in and out works with the
// clear values, and the key is in no file of the data directory, no log
// line and no answer; the names are in no file.
func TestServePseudonymisesAndKeepsTheKey(t *testing.T) {
	dir := t.TempDir()
	const key = "c2VjcmV0LWtleS1vZi10aGUtdGVzdC0wMTIzNDU2Nzg5"
	keyFile := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var logs lockedBuffer
	url, _ := serveWithArgs(t, data, &logs, "--pseudonym-key-file", keyFile, "--enable-delete",
		"--retention-max-age", "90d", "--retention-space-max-age", "team-a=30d,audit=off", "--log-level", "debug")
	var answers strings.Builder
	cli := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, stdin, append(args, "--url", url)...)
		answers.WriteString(out + errs)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		return out
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answers.Write(b)
		return string(b)
	}
	cli(personalEvents, "ingest")
	if out := cli("", "query", "--filter", "user.name:alice"); strings.Count(out, `"_seq"`) != 1 || strings.Contains(out, "alice") {
		t.Fatalf("query by name:\n%s", out)
	}
	if out := cli("", "query", "--filter", `client.ip:"0:0:0:0:0:0:0:1"`); strings.Count(out, `"_seq"`) != 1 {
		t.Fatalf("query by another spelling of an address:\n%s", out)
	}
	code, _, errs := runCLI(t, "", "query", "--url", url, "--filter", "user.name:a*")
	if code != 1 || !strings.Contains(errs, "user.name is pseudonymised: a prefix or wildcard cannot match pseudonyms") {
		t.Fatalf("a prefix on a pseudonymised field: %d %s", code, errs)
	}
	var notice struct {
		Pseudonymised []string
		Retention     struct {
			MaxAge string `json:"max_age"`
			Spaces map[string]string
		}
	}
	if err := json.Unmarshal([]byte(get("/api/_privacy")), &notice); err != nil {
		t.Fatal(err)
	}
	if strings.Join(notice.Pseudonymised, ",") != "user.name,user.email,user.id,source.ip,client.ip" ||
		notice.Retention.MaxAge != "90d" || notice.Retention.Spaces["team-a"] != "30d" || notice.Retention.Spaces["audit"] != "forever" {
		t.Fatalf("notice: %+v", notice)
	}
	text := cli("", "notice")
	for _, want := range []string{"pseudonymised: user.name, user.email, user.id, source.ip, client.ip", "space team-a: 30d", "authentication: off"} {
		if !strings.Contains(text, want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	out := cli("", "query", "--filter", "user.name:alice")
	alice := out[strings.Index(out, `"name":"`)+8:]
	alice = alice[:strings.IndexByte(alice, '"')]
	if got, want := cli("", "pseudonym", "reveal", "--field", "user.name", alice, "bob", "alice"), "user.name alice is "+alice+"\n"; got != want {
		t.Errorf("reveal through the server: %q, want %q", got, want)
	}
	if out := cli("", "delete", "--filter", "user.name:bob"); !strings.Contains(out, "deleted 1") {
		t.Fatalf("delete: %s", out)
	}
	get("/api/_stats")
	get("/metrics")
	cli("", "export")
	for where, s := range map[string]string{"logs": logs.String(), "answers": answers.String()} {
		if strings.Contains(s, key) {
			t.Errorf("the key is in the %s", where)
		}
	}
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range []string{key, "alice", "bob", "10.1.2.3"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
}

func TestPseudonymReveal(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k")
	os.WriteFile(keyFile, []byte("reveal-test-key-0123456789abcdefghij"), 0o600)
	t.Setenv(envPseudonymKeyFile, keyFile)
	data := filepath.Join(dir, "data")
	if code, _, errs := runCLI(t, personalEvents, "ingest", "--data", data, "--allow-unregistered"); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	code, out, errs := runCLI(t, "", "query", "--data", data, "--filter", `client.ip:"::1"`)
	if code != 0 || strings.Count(out, `"_seq"`) != 1 {
		t.Fatalf("query by address: %d %s %s", code, out, errs)
	}
	pseudonym := out[strings.Index(out, `"ip":"`)+6:]
	pseudonym = pseudonym[:strings.IndexByte(pseudonym, '"')]
	for args, want := range map[string]struct {
		code int
		out  string
	}{
		"--field client.ip " + pseudonym + " 10.0.0.1 0:0:0:0:0:0:0:1": {0, "client.ip 0:0:0:0:0:0:0:1 is " + pseudonym + "\n"},
		"--field client.ip " + pseudonym + " 10.0.0.1":                 {1, "no candidate is " + pseudonym + " in client.ip\n"},
	} {
		code, out, errs := runCLI(t, "", append([]string{"pseudonym", "reveal", "--data", data}, strings.Fields(args)...)...)
		if code != want.code || out != want.out {
			t.Errorf("reveal %s: exit %d %q %q, want %d %q", args, code, out, errs, want.code, want.out)
		}
	}
	if code, _, errs := runCLI(t, "", "pseudonym", "reveal", "--data", data, "--key-file", filepath.Join(data, "k"), "pseu:v1:x", "a"); code != 1 || !strings.Contains(errs, "pseudonym key") {
		t.Errorf("a missing key file: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "pseudonym", "reveal", "--data", filepath.Join(dir, "nowhere"), pseudonym, "a"); code != 1 || !strings.Contains(errs, "recorded in the store") {
		t.Errorf("a reveal with no store to record it: %d %s", code, errs)
	}
	// Both reveals are recorded, with the pseudonym and without the
	// candidates.
	code, out, errs = runCLI(t, "", "query", "--data", data, "--filter", "event.action:pseudonym-reveal")
	if code != 0 || strings.Count(out, `"_seq"`) != 2 || strings.Count(out, pseudonym) < 2 || strings.Contains(out, "10.0.0.1") {
		t.Errorf("the reveals' audit events: %d %s %s", code, out, errs)
	}
}

func TestNoticeOfSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "eventlog.yaml")
	os.WriteFile(file, []byte("retention-max-age: 30d\nretention-space-max-age: audit=off\n"), 0o600)
	code, out, errs := runCLI(t, "", "notice", "--config", file, "--format", "json")
	var n struct {
		Pseudonymised []string
		Retention     struct {
			MaxAge string `json:"max_age"`
			Spaces map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &n); code != 0 || err != nil {
		t.Fatalf("exit %d %v %s", code, err, errs)
	}
	if len(n.Pseudonymised) != 0 || n.Retention.MaxAge != "30d" || n.Retention.Spaces["audit"] != "forever" {
		t.Fatalf("notice %+v", n)
	}
	data := filepath.Join(filepath.Dir(file), "data")
	os.MkdirAll(data, 0o755)
	os.WriteFile(filepath.Join(data, "k"), []byte("a key of at least thirty-two bytes!!"), 0o600)
	t.Setenv(envPseudonymKeyFile, filepath.Join(data, "k"))
	if code, _, errs := runCLI(t, "", "notice", "--config", file, "--data", data); code != 1 || !strings.Contains(errs, "inside the data directory") {
		t.Fatalf("a key inside --data: %d %s", code, errs)
	}
	t.Setenv(envPseudonymKeyFile, "")
	t.Setenv(envPseudonymKey, "a key of at least thirty-two bytes!!")
	if code, out, errs := runCLI(t, "", "notice", "--config", file, "--data", data); code != 0 || !strings.Contains(out, "pseudonymised: user.name, user.email") {
		t.Fatalf("a key in the environment: %d %s %s", code, out, errs)
	}
}
