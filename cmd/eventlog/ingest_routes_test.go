package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/server"
)

// TestServeESSettings: the /es settings come from the file and flags,
// default to the index name, "log" and register, and a bad policy is an
// error naming the choices.
func TestServeESSettings(t *testing.T) {
	c, err := loadServeConfig(nil, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (server.IngestRoute{DefaultAction: "log", Providers: server.ProvidersRegister}); c.server.ES != want {
		t.Fatalf("defaults %+v, want %+v", c.server.ES, want)
	}
	file := writeConfig(t, "es-default-provider: syslog\nes-unregistered: strict\n")
	c, err = loadServeConfig([]string{"--config", file, "--es-default-action", "line"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (server.IngestRoute{DefaultProvider: "syslog", DefaultAction: "line", Providers: server.ProvidersStrict}); c.server.ES != want {
		t.Fatalf("got %+v, want %+v", c.server.ES, want)
	}
	_, err = loadServeConfig([]string{"--es-unregistered", "accept"}, envMap(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "register or strict") {
		t.Fatalf("bad policy: %v", err)
	}
}

// TestServeGitLabTokenFile: the token file gives tokens and their spaces;
// a short token or an empty space is an error naming the line.
func TestServeGitLabTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := func(text string) string {
		p := filepath.Join(dir, "tokens")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadServeConfig([]string{"--gitlab-token-file", file("# GitLab destinations\nabcdefghijklmnop team-a,team-b\n\nqrstuvwxyz0123456789 # the default space\n")}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []server.GitLabToken{{Token: "abcdefghijklmnop", Spaces: []string{"team-a", "team-b"}}, {Token: "qrstuvwxyz0123456789"}}
	if !reflect.DeepEqual(c.server.GitLab.Tokens, want) {
		t.Fatalf("tokens %+v, want %+v", c.server.GitLab.Tokens, want)
	}
	for text, msg := range map[string]string{
		"short\n":                 "tokens:1: a token of 5 characters is too short",
		"abcdefghijklmnop a,,b\n": `tokens:1: an empty space name in "a,,b"`,
		"# none\n":                "holds no token",
		"abcdefghijklmnop a b\n":  "tokens:1: want TOKEN [SPACE,...], got 3 words",
	} {
		_, err := loadServeConfig([]string{"--gitlab-token-file", file(text)}, envMap(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", text, err, msg)
		}
	}
}
