package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

// serveInProcess serves the data directory through package server on an
// httptest server and returns its URL; wrap, when not nil, wraps the
// server's handler.
func serveInProcess(t *testing.T, data string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	db, err := eventlog.Open(data, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(db, server.Config{}, server.NewMetrics(), nil).Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return ts.URL
}

// sameAsLocal runs a command with --data data and with --url url (the
// server of the same directory) and checks that both exit and print
// alike. It returns what they printed.
func sameAsLocal(t *testing.T, data, url string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr = runCLI(t, "", append(args, "--data", data)...)
	rcode, rout, rerr := runCLI(t, "", append(args, "--url", url)...)
	if rcode != code || rout != stdout || rerr != stderr {
		t.Fatalf("%v:\n--data: exit %d\n%s\nstderr:\n%s\n--url: exit %d\n%s\nstderr:\n%s", args, code, stdout, stderr, rcode, rout, rerr)
	}
	return code, stdout, stderr
}

func TestQueryThroughServer(t *testing.T) {
	data := ingestExamples(t)
	url := serveInProcess(t, data, nil)
	aggs := `{"by_provider":{"terms":{"field":"event.provider"},"aggs":{"outcomes":{"terms":{"field":"event.outcome"}}}},` +
		`"duration":{"stats":{"field":"event.duration"}},"per_minute":{"date_histogram":{"interval":"1m","time_zone":"Europe/Paris"}}}`
	for name, args := range map[string][]string{
		"ndjson":                 {},
		"json":                   {"--format", "json"},
		"table, desc, a page":    {"--format", "table", "--sort", "@timestamp:desc", "--limit", "3"},
		"filter":                 {"--filter", "event.provider:alerting and not event.action:execute-action"},
		"free text":              {"--filter", `"logged in"`, "--format", "json"},
		"two sort keys":          {"--sort", "event.duration:desc", "--sort", "@timestamp:desc", "--format", "json"},
		"second page":            {"--limit", "3", "--page", "2", "--format", "json"},
		"range across offsets":   {"--start", "2024-05-01T14:02:11.2Z", "--end", "2024-05-01T14:04:00Z"},
		"saved object":           {"--type", "alert", "--id", "8a3f2c1e-cpu", "--format", "table"},
		"space":                  {"--space", "default", "--format", "json"},
		"no match":               {"--filter", "event.outcome:nothing", "--format", "json"},
		"aggregations":           {"--aggs", aggs, "--limit", "1"},
		"aggregations, no match": {"--aggs", aggs, "--filter", "event.outcome:nothing"},
		"no aggregations":        {"--aggs", "{}"},
		"bad filter":             {"--filter", "event.outcome:failure and"},
		"unknown field":          {"--filter", "nosuch:1 or event.outcome:failure"},
		"bad sort field":         {"--sort", "nosuch"},
		"bad aggregation":        {"--aggs", `{"x":{"terms":{"field":"message"}}}`},
		"limit too big":          {"--limit", "20000"},
		"bad cursor":             {"--after", "nonsense"},
		"relative time":          {"--start", "7d"},
	} {
		t.Run(name, func(t *testing.T) {
			sameAsLocal(t, data, url, append([]string{"query"}, args...)...)
		})
	}
	// Every page through the server, following the cursors it prints.
	var seqs []uint64
	args := []string{"query", "--sort", "event.duration:desc,@timestamp", "--limit", "3"}
	for range 3 {
		code, out, errs := sameAsLocal(t, data, url, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		seqs = append(seqs, ndjsonSeqs(t, out)...)
		_, cursor, ok := strings.Cut(errs, "next page: --after ")
		if !ok {
			break
		}
		args = append(args[:5:5], "--after", strings.TrimSpace(cursor))
	}
	if want := []uint64{1, 2, 3, 4}; !reflect.DeepEqual(seqs, want) {
		t.Fatalf("pages gave %v, want %v", seqs, want)
	}
	// $EVENTLOG_URL works as --url.
	t.Setenv("EVENTLOG_URL", url)
	if code, out, _ := runCLI(t, "", "query", "--filter", "user.name:elastic"); code != 0 || !reflect.DeepEqual(ndjsonSeqs(t, out), []uint64{4}) {
		t.Fatalf("EVENTLOG_URL: exit %d, %q", code, out)
	}
}

func TestExportThroughServer(t *testing.T) {
	data := ingestExamples(t)
	url := serveInProcess(t, data, nil)
	_, out, _ := sameAsLocal(t, data, url, "export")
	if seqs, _ := exportedEvents(t, out); !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4}) {
		t.Fatalf("export: %v", seqs)
	}
	sameAsLocal(t, data, url, "export", "--filter", "kibana.saved_objects:{type:alert and id:8a3f2c1e-cpu}", "--sort", "@timestamp:desc")
	sameAsLocal(t, data, url, "export", "--type", "action", "--id", "slack-ops")
	sameAsLocal(t, data, url, "export", "--filter", "event.action:(execute or")
}

// ingestInput is NDJSON with every kind of line ingest meets: good ones,
// malformed JSON, unknown fields, unregistered providers (found by the
// store), a line over the document limit, blank lines and CRLF endings,
// over several batches.
func ingestInput(lines int) string {
	var in strings.Builder
	for i := 1; i <= lines; i++ {
		switch {
		case i%101 == 0:
			line, _ := badLine(i / 101)
			in.WriteString(line + "\n")
		case i%250 == 0:
			in.WriteString(`{"message":"` + strings.Repeat("x", 1<<20) + `"}` + "\n")
		case i%97 == 0:
			in.WriteString("  \r\n")
		default:
			in.WriteString(goodLine(i) + "\r\n")
		}
	}
	in.WriteString(goodLine(lines + 1)) // no newline at the end
	return in.String()
}

func TestIngestThroughServer(t *testing.T) {
	in := ingestInput(1200)
	file := filepath.Join(t.TempDir(), "in.ndjson")
	if err := os.WriteFile(file, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []string{"1000", "64"} {
		t.Run("batch="+batch, func(t *testing.T) {
			local, remoteDir := registeredDir(t), registeredDir(t)
			url := serveInProcess(t, remoteDir, nil)
			code, out, errs := runCLI(t, "", "ingest", "--data", local, "--batch", batch, file)
			rcode, rout, rerrs := runCLI(t, "", "ingest", "--url", url, "--batch", batch, file)
			if rcode != code || strings.Replace(rout, url, local, 1) != out || rerrs != errs {
				t.Fatalf("--data: exit %d %q\n%s\n--url: exit %d %q\n%s", code, out, errs, rcode, rout, rerrs)
			}
			// Independently of the local mode: the counts, and each kind of
			// bad line named with its line number.
			if want := fmt.Sprintf("ingested 1174 events into %s (15 lines rejected)\n", url); rcode != 1 || rout != want {
				t.Fatalf("exit %d, stdout %q, want %q", rcode, rout, want)
			}
			for _, want := range []string{
				"line 101: event.nope: unknown field",
				`line 202: unregistered provider/action: provider "q" is not registered`,
				"line 250: line over the document size limit of 1048576 bytes",
				"line 303: ", // malformed JSON
			} {
				if !strings.Contains(rerrs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, rerrs)
				}
			}
			// The same events with the same ids: the exports are equal.
			_, want, _ := runCLI(t, "", "export", "--data", local)
			if code, got, errs := runCLI(t, "", "export", "--url", url); code != 0 || got != want {
				t.Fatalf("export through the server: exit %d %s\n%s\nwant\n%s", code, errs, got, want)
			}
		})
	}
}

// TestIngestRetriesWhenOverloaded answers 429 to the first _bulk requests:
// ingest waits as Retry-After says and sends the batch again, storing each
// line once, and gives up after the client's MaxAttempts.
func TestIngestRetriesWhenOverloaded(t *testing.T) {
	const maxAttempts = 10 // client.Options.MaxAttempts's default
	var refuse, bulks atomic.Int32
	overload := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/events/_bulk" {
				bulks.Add(1)
				if refuse.Add(-1) >= 0 {
					w.Header().Set("Retry-After", "0")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, `{"status":429,"error":{"type":"overloaded","reason":"too many writes in flight"}}`)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	data := registeredDir(t)
	url := serveInProcess(t, data, overload)
	in := goodLine(1) + "\n" + goodLine(2) + "\n" + goodLine(3) + "\n"

	refuse.Store(3)
	if code, out, errs := runCLI(t, in, "ingest", "--url", url, "--batch", "2"); code != 0 || out != "ingested 3 events into "+url+"\n" || errs != "" {
		t.Fatalf("exit %d %q %q", code, out, errs)
	}
	if n := bulks.Load(); n != 5 { // 3 refused, then the two batches
		t.Fatalf("%d _bulk requests, want 5", n)
	}
	refuse.Store(1 << 20)
	bulks.Store(0)
	code, out, errs := runCLI(t, in, "ingest", "--url", url)
	want := fmt.Sprintf("eventlog ingest: store lines 1 to 3: gave up after %d attempts: server: 429 overloaded: too many writes in flight (0 events were stored before it)\n", maxAttempts)
	if code != 1 || out != "" || errs != want || bulks.Load() != maxAttempts {
		t.Fatalf("exit %d, stdout %q, %d requests, stderr %q\nwant %q", code, out, bulks.Load(), errs, want)
	}
	code, out, _ = runCLI(t, "", "export", "--url", url)
	if seqs, events := exportedEvents(t, out); code != 0 || !reflect.DeepEqual(seqs, []uint64{1, 2, 3}) || !strings.Contains(events[2], `"event 3"`) {
		t.Fatalf("stored %v %v", seqs, events)
	}
}

func TestClientUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"query --url http://127.0.0.1:1 --data x":              "eventlog query: --url and --data: give the server or the data directory, not both\n",
		"export --data x --url http://127.0.0.1:1":             "eventlog export: --url and --data: give the server or the data directory, not both\n",
		"ingest --url http://127.0.0.1:1 --data x":             "eventlog ingest: --url and --data: give the server or the data directory, not both\n",
		"ingest --url http://127.0.0.1:1 --sync none":          "eventlog ingest: --sync and --allow-unregistered are the server's settings (eventlog serve --help), not the client's\n",
		"ingest --url http://127.0.0.1:1 --allow-unregistered": "eventlog ingest: --sync and --allow-unregistered are the server's settings (eventlog serve --help), not the client's\n",
		"query --url 127.0.0.1:9700":                           `eventlog query: --url "127.0.0.1:9700": want http://HOST:PORT or https://HOST:PORT` + "\n",
	} {
		if code, out, errs := runCLI(t, "", strings.Fields(args)...); code != 2 || out != "" || errs != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, code, out, errs, want)
		}
	}
	// Nothing listening: the error says where it tried.
	code, _, errs := runCLI(t, "", "query", "--url", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(errs, "http://127.0.0.1:1/api/events/_search") || !strings.Contains(errs, "connection refused") {
		t.Fatalf("no server: exit %d %q", code, errs)
	}
}
