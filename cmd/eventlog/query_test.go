package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// examples is the example file of the README's quickstart:
//
//	seq 1  2024-05-01T14:02:11.125Z   alerting execute        success  event.duration 224ms, primary ref alert:8a3f2c1e-cpu
//	seq 2  2024-05-01T14:02:11.5Z     alerting execute-action success  primary ref alert:8a3f2c1e-cpu, ref action:slack-ops
//	seq 3  2024-05-01T16:02:12+02:00  actions  execute        failure  primary ref action:slack-ops (14:02:12Z)
//	seq 4  2024-05-01T14:05:00.000Z   security user_login     success  user.name elastic
const examples = "../../examples/events.ndjson"

// ingestExamples loads the example events into a new data directory.
func ingestExamples(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if code, out, errs := runCLI(t, "", "ingest", "--data", data, "--allow-unregistered", examples); code != 0 || out != "ingested 4 events into "+data+"\n" {
		t.Fatalf("ingest: %d %q %q", code, out, errs)
	}
	return data
}

// ndjsonSeqs returns the _seq of each NDJSON line, checking its _id.
func ndjsonSeqs(t *testing.T, out string) []uint64 {
	t.Helper()
	var seqs []uint64
	for line := range strings.Lines(out) {
		seq, doc := splitDocument(t, line)
		if !json.Valid([]byte(doc)) || doc == "{}" {
			t.Fatalf("not an event: %q", line)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

func TestQueryNDJSON(t *testing.T) {
	data := ingestExamples(t)
	for name, c := range map[string]struct {
		args  []string
		seqs  []uint64
		total int
	}{
		"all, by @timestamp":       {nil, []uint64{1, 2, 3, 4}, 4},
		"filter":                   {[]string{"--filter", "event.provider:alerting and not event.action:execute-action"}, []uint64{1}, 1},
		"or":                       {[]string{"--filter", "event.outcome:failure or user.name:elastic"}, []uint64{3, 4}, 2},
		"free text":                {[]string{"--filter", `"logged in"`}, []uint64{4}, 1},
		"desc":                     {[]string{"--sort", "@timestamp:desc"}, []uint64{4, 3, 2, 1}, 4},
		"two keys, repeated flag":  {[]string{"--sort", "event.duration:desc", "--sort", "@timestamp:desc"}, []uint64{1, 4, 3, 2}, 4},
		"two keys, comma list":     {[]string{"--sort", "event.action:asc,@timestamp:desc"}, []uint64{3, 1, 2, 4}, 4},
		"limit":                    {[]string{"--limit", "2"}, []uint64{1, 2}, 4},
		"page":                     {[]string{"--limit", "3", "--page", "2"}, []uint64{4}, 4},
		"range across offsets":     {[]string{"--start", "2024-05-01T14:02:11.2Z", "--end", "2024-05-01T14:04:00Z"}, []uint64{2, 3}, 2},
		"inclusive bounds":         {[]string{"--start", "2024-05-01T14:02:11.5Z", "--end", "2024-05-01T16:02:12+02:00"}, []uint64{2, 3}, 2},
		"saved object":             {[]string{"--type", "alert", "--id", "8a3f2c1e-cpu"}, []uint64{1, 2}, 2},
		"saved object, primary":    {[]string{"--type", "action", "--id", "slack-ops", "--id", "other"}, []uint64{3}, 1},
		"filter and range and ref": {[]string{"--type", "alert", "--id", "8a3f2c1e-cpu", "--filter", "event.action:execute*", "--start", "2024-05-01T14:02:11.2Z"}, []uint64{2}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"query", "--data", data, "--format", "ndjson"}, c.args...)
			code, out, errs := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := ndjsonSeqs(t, out); !reflect.DeepEqual(got, c.seqs) {
				t.Errorf("seqs %v, want %v", got, c.seqs)
			}
			if !strings.HasPrefix(errs, fmt.Sprintf("total: %d\n", c.total)) {
				t.Errorf("stderr %q, want total %d", errs, c.total)
			}
		})
	}
}

func TestQueryAfterWalksEveryPage(t *testing.T) {
	data := ingestExamples(t)
	var seqs []uint64
	args := []string{"query", "--data", data, "--sort", "@timestamp:desc", "--limit", "3"}
	for range 5 {
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || !strings.HasPrefix(errs, "total: 4\n") {
			t.Fatalf("exit %d: %q", code, errs)
		}
		seqs = append(seqs, ndjsonSeqs(t, out)...)
		_, cursor, ok := strings.Cut(errs, "next page: --after ")
		if !ok {
			break
		}
		args = append(args[:7:7], "--after", strings.TrimSpace(cursor))
	}
	if want := []uint64{4, 3, 2, 1}; !reflect.DeepEqual(seqs, want) {
		t.Fatalf("pages gave %v, want %v", seqs, want)
	}
}

// jsonResult is the json format as a client reads it.
type jsonResult struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Data    []struct {
		ID    string         `json:"_id"`
		Seq   uint64         `json:"_seq"`
		Event map[string]any `json:"event"` // the event's own "event" member
		Time  string         `json:"@timestamp"`
	} `json:"data"`
	Next         *string `json:"next"`
	Aggregations map[string]struct {
		Buckets []struct {
			Key   string `json:"key"`
			Count int    `json:"count"`
		} `json:"buckets"`
		Count int64 `json:"count"`
		Min   int64 `json:"min"`
		Max   int64 `json:"max"`
	} `json:"aggregations"`
}

func TestQueryJSON(t *testing.T) {
	data := ingestExamples(t)
	run := func(args ...string) jsonResult {
		t.Helper()
		code, out, errs := runCLI(t, "", append([]string{"query", "--data", data}, args...)...)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d: %q", code, errs)
		}
		var r jsonResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		return r
	}
	r := run("--format", "json", "--filter", "event.provider:alerting", "--sort", "@timestamp:desc", "--limit", "1")
	if r.Total != 2 || r.Page != 1 || r.PerPage != 1 || len(r.Data) != 1 || r.Data[0].Seq != 2 || r.Data[0].ID != "0000000000000002" || r.Next == nil || r.Aggregations != nil {
		t.Fatalf("page: %+v", r)
	}
	if d := r.Data[0]; d.Time != "2024-05-01T14:02:11.5Z" || d.Event["action"] != "execute-action" {
		t.Fatalf("event: %+v", d)
	}
	// Each hit is on a line of its own, the same line ndjson prints.
	_, js, _ := runCLI(t, "", "query", "--data", data, "--format", "json", "--limit", "3")
	_, nd, _ := runCLI(t, "", "query", "--data", data, "--format", "ndjson", "--limit", "3")
	var hits []string
	for line := range strings.Lines(js) {
		if strings.HasPrefix(line, "    {") {
			hits = append(hits, strings.TrimSuffix(strings.TrimSpace(line), ",")+"\n")
		}
	}
	if strings.Join(hits, "") != nd || len(hits) != 3 {
		t.Fatalf("json hits:\n%s\nndjson:\n%s", strings.Join(hits, ""), nd)
	}
	if r := run("--format", "json", "--filter", "event.outcome:nothing"); r.Total != 0 || r.Data == nil || len(r.Data) != 0 || r.Next != nil {
		t.Fatalf("no match: %+v", r)
	}
	// --aggs picks json by itself and counts every match, not only the page.
	r = run("--limit", "1", "--aggs", `{"by_provider":{"terms":{"field":"event.provider"}},"duration":{"stats":{"field":"event.duration"}}}`)
	counts := map[string]int{}
	for _, b := range r.Aggregations["by_provider"].Buckets {
		counts[b.Key] = b.Count
	}
	if want := map[string]int{"alerting": 2, "actions": 1, "security": 1}; !reflect.DeepEqual(counts, want) || len(r.Data) != 1 || r.Total != 4 {
		t.Fatalf("terms: %v, want %v (%+v)", counts, want, r)
	}
	if d := r.Aggregations["duration"]; d.Count != 1 || d.Min != 224000000 || d.Max != 224000000 {
		t.Fatalf("stats: %+v", d)
	}
}

func TestQueryTable(t *testing.T) {
	data := ingestExamples(t)
	code, out, errs := runCLI(t, "", "query", "--data", data, "--format", "table", "--sort", "@timestamp:desc", "--limit", "3")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %q", code, errs)
	}
	want := `@timestamp                 event.provider  event.action    event.outcome  message
2024-05-01T14:05:00.000Z   security        user_login      success        user elastic logged in
2024-05-01T16:02:12+02:00  actions         execute         failure        action execution failed: .slack:slack-ops
2024-05-01T14:02:11.5Z     alerting        execute-action  success        alert: .index-threshold:8a3f2c1e-cpu: 'cpu over 90%' instan…
3 of 4
next page: --after `
	if !strings.HasPrefix(out, want) {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	// The long message is cut to messageWidth characters, "…" included.
	full := "alert: .index-threshold:8a3f2c1e-cpu: 'cpu over 90%' instanceId: 'host-7' scheduled actionGroup: 'threshold met' action: .slack:slack-ops"
	msg := strings.SplitN(strings.Split(out, "\n")[3], "  success        ", 2)[1]
	if utf8.RuneCountInString(msg) != messageWidth || !strings.HasPrefix(full, strings.TrimSuffix(msg, "…")) {
		t.Fatalf("cut message %q", msg)
	}
	if got := cell("a\tb\nc"); got != "a b c" {
		t.Fatalf("cell: %q", got)
	}
}

func TestQueryErrors(t *testing.T) {
	data := ingestExamples(t)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"filter ends early": {[]string{"--filter", "event.outcome:failure and"},
			"eventlog query: invalid query: filter: at 26: expected an expression after 'and'\n  event.outcome:failure and\n  " + strings.Repeat(" ", 25) + "^\n"},
		"below a field": {[]string{"--filter", "event.outcome:failure and event.outcome.x:1"},
			"filter: at 27: unknown field \"event.outcome.x\""},
		"sort order":    {[]string{"--sort", "@timestamp:up"}, `--sort @timestamp:up: order "up" is neither asc nor desc`},
		"sort field":    {[]string{"--sort", "nosuch"}, `cannot sort by "nosuch"`},
		"aggs json":     {[]string{"--aggs", `{"x":{"term":{}}}`}, `--aggs: json: unknown field "term"`},
		"aggs table":    {[]string{"--aggs", `{"x":{"terms":{"field":"event.action"}}}`, "--format", "table"}, "--aggs needs --format json"},
		"format":        {[]string{"--format", "yaml"}, `--format "yaml": want table, json or ndjson`},
		"limit 0":       {[]string{"--limit", "0"}, "--limit and --page must be at least 1"},
		"limit too big": {[]string{"--limit", "20000"}, "per_page 20000 is outside 1..10000"},
		"type alone":    {[]string{"--type", "alert"}, "--type and --id go together"},
		"cursor":        {[]string{"--after", "nonsense"}, "search_after"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"query", "--data", data}, c.args...)...)
			if code != 1 || out != "" || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errs, c.want)
			}
		})
	}
}
