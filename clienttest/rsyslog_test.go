package clienttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/eventlogdb/eventlog/server"
)

// TestRsyslogShipsToES runs rsyslogd in the foreground with its own
// configuration (testdata/rsyslog.conf.tmpl, the one README.md shows):
// lines appended to a file reach /es through omelasticsearch's bulk mode
// and come back from the native search, each once, and rsyslog reports no
// failed request.
func TestRsyslogShipsToES(t *testing.T) {
	rsyslogd := needProgram(t, "rsyslogd", "rsyslog rsyslog-elasticsearch", "/usr/sbin/rsyslogd")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/omelasticsearch.so"); err != nil {
		t.Fatalf("omelasticsearch is missing: apt-get install rsyslog-elasticsearch (.ci/run does)")
	}
	s := newStore(t, server.Config{})
	dir := t.TempDir()
	want := docs("rsyslog-line", 300)
	var lines bytes.Buffer
	for _, m := range want {
		fmt.Fprintf(&lines, "%s\n", m)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.log"), lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.esURL)
	conf := writeRsyslogConf(t, dir, u.String())
	cmd := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, c := range s.messages("_index:syslog-test") {
			n += c
		}
		if n >= len(want) {
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("rsyslogd exited (%v) with %d of %d lines stored:\n%s", err, n, len(want), out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines stored after 60 s; rsyslogd said:\n%s", n, len(want), out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything sent twice would show now
	s.wantEachOnce("_index:syslog-test", want)
	if data, err := os.ReadFile(filepath.Join(dir, "es-errors.json")); err == nil && len(data) > 0 {
		t.Fatalf("rsyslog recorded failed requests:\n%s", data)
	}
	if strings.Contains(out.String(), "omelasticsearch") {
		t.Errorf("rsyslogd complained:\n%s", out.String())
	}
	// Its own fields came along, beyond the schema.
	for _, raw := range s.search("_index:syslog-test") {
		var d struct {
			Syslog struct{ Tag, Severity string }
			Event  struct{ Provider, Action string }
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.Syslog.Tag != "app:" || d.Syslog.Severity == "" || d.Event.Provider != "syslog-test" || d.Event.Action != "log" {
			t.Fatalf("stored %s: want syslog.tag app: and a severity kept, provider syslog-test (the index), action log", raw)
		}
	}
}

// writeRsyslogConf fills in testdata/rsyslog.conf.tmpl for the test's
// directory and the store's /es URL.
func writeRsyslogConf(t *testing.T, dir, esURL string) string {
	t.Helper()
	tmpl, err := template.ParseFiles("testdata/rsyslog.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]string{"Dir": dir, "URL": esURL}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
