package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
)

const deletePath = "/api/events/_delete_by_query"

// personDoc is an event of user who, with a primary ref to the saved
// object user:who and a message of its own.
func personDoc(i int, who, message string) string {
	return fmt.Sprintf(`{"@timestamp":%q,"message":%q,"event":{"provider":"app","action":"act"},"user":{"name":%q},`+
		`"kibana":{"saved_objects":[{"rel":"primary","type":"user","id":%q}]}}`, tsAt(i), message, who, who)
}

// people stores n events of alice and m of bob, from timestamp index i0.
func (e *maintEnv) people(i0, alice, bob int) {
	e.t.Helper()
	var docs []string
	for i := range alice {
		docs = append(docs, personDoc(i0+i, "alice", fmt.Sprintf("alice-secret-%d", i0+i)))
	}
	for i := range bob {
		docs = append(docs, personDoc(i0+alice+i, "bob", fmt.Sprintf("bob-note-%d", i0+alice+i)))
	}
	e.bulk(docs...)
}

// findTotal is the total of Kibana's _find for the saved object user:who.
func (e *maintEnv) findTotal(who string) int {
	e.t.Helper()
	var page struct{ Total int }
	r := e.do("GET", "/api/event_log/user/"+who+"/_find", "", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("_find %s: %d %s", who, r.status, r.body)
	}
	r.decode(e.t, &page)
	return page.Total
}

// wantPeople checks what _search and _find see of alice and bob.
func (e *maintEnv) wantPeople(alice, bob int) {
	e.t.Helper()
	for who, want := range map[string]int{"alice": alice, "bob": bob} {
		if n, _ := e.search("user.name:" + who); n != want {
			e.t.Errorf("_search sees %d events of %s, want %d", n, who, want)
		}
		if n := e.findTotal(who); n != want {
			e.t.Errorf("_find sees %d events of %s, want %d", n, who, want)
		}
	}
}

// onDisk reports which files under dir hold s, byte for byte.
func onDisk(t *testing.T, dir, s string) []string {
	t.Helper()
	var in []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			rel, _ := filepath.Rel(dir, path)
			in = append(in, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestDeleteByQuery: the delete hides the matching events stored before
// it from _search and _find at once, a later match survives, the delete is
// recorded with the filter's hash (never the filter), /api/_stats and
// /metrics count it as pending until _compact purges it from disk.
func TestDeleteByQuery(t *testing.T) {
	e := newMaintEnvConfig(t, eventlog.Options{}, Config{EnableDelete: true})
	e.people(0, 4, 3)
	e.roll() // a segment holding rows to delete
	e.people(10, 2, 1)
	e.wantPeople(6, 4)
	const filter = "user.name:alice"
	before := e.stats()

	r := e.do("POST", deletePath, ctJSON, `{"filter":"user.name:alice"}`)
	var res eventlog.DeleteResult
	r.decode(t, &res)
	sum := sha256.Sum256([]byte(filter))
	want := eventlog.DeleteResult{Deleted: 6, Seq: before.LastSeq + 1, FilterSHA256: hex.EncodeToString(sum[:])}
	if r.status != http.StatusOK || res != want {
		t.Fatalf("delete: %d %s, want %+v", r.status, r.body, want)
	}
	e.wantPeople(0, 4)

	n, labels := e.search("event.provider:eventlog and event.action:delete-by-query")
	if n != 1 || labels[0]["filter_sha256"] != want.FilterSHA256 || labels[0]["deleted"] != "6" {
		t.Fatalf("delete record: %d, labels %v", n, labels)
	}
	rec := e.do("GET", "/api/events/_search?filter=event.action:delete-by-query", "", "")
	if strings.Contains(string(rec.body), "alice") {
		t.Fatalf("the record names the filter: %s", rec.body)
	}

	// Segments are compressed, but the WAL holds the unsealed events and
	// the tombstone as written: the check after the purge means something.
	for _, s := range []string{"alice-secret-11", filter} {
		if files := onDisk(t, e.dir, s); len(files) == 0 {
			t.Fatalf("%q is in no file before the purge", s)
		} else {
			t.Logf("before the purge %q is in %v", s, files)
		}
	}
	e.bulk(personDoc(20, "alice", "alice-later"))
	e.wantPeople(1, 4)

	st := e.stats()
	m := st.Maintenance
	if m.Deletes != 1 || m.DeletedEvents != 6 || m.PendingDeletes != 1 || m.PendingPurgeSegments < 1 || m.PurgeRewrites != 0 {
		t.Fatalf("stats after the delete: %+v", m)
	}
	wantMetrics(t, e.metrics(), map[string]float64{
		`eventlog_deletes_total`:          1,
		`eventlog_deleted_events_total`:   6,
		`eventlog_pending_deletes`:        1,
		`eventlog_pending_purge_segments`: float64(m.PendingPurgeSegments),
		`eventlog_purge_rewrites_total`:   0,
		`eventlog_http_requests_total{code="200",route="POST /api/events/_delete_by_query"}`: 1,
	})

	var cres eventlog.CompactResult
	e.post("/api/_compact", &cres)
	if cres.Purged < 1 {
		t.Fatalf("compact purged nothing: %+v", cres)
	}
	m = e.stats().Maintenance
	if m.PendingDeletes != 0 || m.PendingPurgeSegments != 0 || m.PurgeRewrites < 1 || m.Deletes != 1 {
		t.Fatalf("stats after _compact: %+v", m)
	}
	wantMetrics(t, e.metrics(), map[string]float64{
		`eventlog_pending_deletes`:        0,
		`eventlog_pending_purge_segments`: 0,
		`eventlog_purge_rewrites_total`:   float64(m.PurgeRewrites),
	})
	e.wantPeople(1, 4)
	for _, s := range []string{"alice-secret-11", filter} {
		if files := onDisk(t, e.dir, s); len(files) > 0 {
			t.Errorf("%q is still on disk after the purge, in %v", s, files)
		}
	}
}

// TestDeleteByQueryDisabled: without Config.EnableDelete the route answers
// 403 saying how to turn it on, whatever the body, and stores nothing.
func TestDeleteByQueryDisabled(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{})
	e.people(0, 2, 1)
	before := e.stats()
	for _, body := range []string{`{"filter":"user.name:alice"}`, `{"nope":1}`, ""} {
		er := e.do("POST", deletePath, ctJSON, body).wantError(t, http.StatusForbidden, typeDisabled)
		if !strings.Contains(er.Error.Reason, "--enable-delete") || !strings.Contains(er.Error.Reason, "off") {
			t.Fatalf("reason %q", er.Error.Reason)
		}
	}
	if after := e.stats(); after.LastSeq != before.LastSeq || after.Maintenance.Deletes != 0 {
		t.Fatalf("refused, yet last_seq %d → %d, %d deletes", before.LastSeq, after.LastSeq, after.Maintenance.Deletes)
	}
	e.wantPeople(2, 1)
	wantMetrics(t, e.metrics(), map[string]float64{
		`eventlog_deletes_total`: 0,
		`eventlog_http_requests_total{code="403",route="POST /api/events/_delete_by_query"}`: 3,
	})
}

// TestDeleteByQueryBadRequests: each bad request is answered with its
// status and a reason naming the problem, and stores nothing.
func TestDeleteByQueryBadRequests(t *testing.T) {
	e := newMaintEnvConfig(t, eventlog.Options{}, Config{EnableDelete: true, MaxEventBytes: 1024})
	e.people(0, 2, 1)
	before := e.stats()
	for name, c := range map[string]struct {
		path, contentType, body string
		status                  int
		typ, reason             string
	}{
		"no filter":      {body: `{"start":"2024-05-01T00:00:00Z"}`, status: 400, reason: "filter is required"},
		"empty body":     {body: "", status: 400, reason: "filter is required"},
		"empty filter":   {body: `{"filter":""}`, status: 400, reason: "filter is required"},
		"bad KQL":        {body: `{"filter":"user.name:(alice"}`, status: 400, reason: "filter"},
		"unknown field":  {body: `{"filter":"user.name:alice","query":"x"}`, status: 400, reason: `unknown field "query"`},
		"bad start":      {body: `{"filter":"user.name:alice","start":"last tuesday"}`, status: 400, reason: "start"},
		"bad end":        {body: `{"filter":"user.name:alice","end":"soon"}`, status: 400, reason: "end"},
		"start > end":    {body: `{"filter":"user.name:alice","start":"2024-05-02T00:00:00Z","end":"2024-05-01T00:00:00Z"}`, status: 400, reason: "is after end"},
		"wrong type":     {body: `{"filter":["user.name:alice"]}`, status: 400, reason: "filter"},
		"trailing data":  {body: `{"filter":"user.name:alice"} {"filter":"*"}`, status: 400, reason: "data after the JSON value"},
		"not JSON":       {body: `filter=user.name:alice`, status: 400, reason: "body: invalid character"},
		"unknown param":  {path: "?dry_run=true", body: `{"filter":"user.name:alice"}`, status: 400, reason: `unknown query parameter "dry_run"`},
		"bad timeout":    {path: "?timeout=soon", body: `{"filter":"user.name:alice"}`, status: 400, reason: "timeout"},
		"too large":      {body: `{"filter":"user.name:alice or message:` + strings.Repeat("x", 2000) + `"}`, status: 413, typ: typeTooLarge, reason: "over the limit of 1024 bytes"},
		"form body":      {contentType: "application/x-www-form-urlencoded", body: `filter=x`, status: 415, typ: typeUnsupportedMedia, reason: "send application/json"},
		"wrong method":   {status: 405, typ: typeMethodNotAllowed, reason: "allowed: POST"},
		"null as filter": {body: `{"filter":null}`, status: 400, reason: "filter is required"},
	} {
		t.Run(name, func(t *testing.T) {
			method, ct := "POST", ctJSON
			if c.status == http.StatusMethodNotAllowed {
				method = "GET"
			}
			if c.contentType != "" {
				ct = c.contentType
			}
			typ := c.typ
			if typ == "" {
				typ = typeInvalidRequest
			}
			er := e.do(method, deletePath+c.path, ct, c.body).wantError(t, c.status, typ)
			if !strings.Contains(er.Error.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", er.Error.Reason, c.reason)
			}
			if after := e.stats(); after.LastSeq != before.LastSeq || after.Maintenance.Deletes != 0 || after.Maintenance.PendingDeletes != 0 {
				t.Fatalf("rejected, yet last_seq %d → %d, %+v", before.LastSeq, after.LastSeq, after.Maintenance)
			}
		})
	}
	e.wantPeople(2, 1)
}

// TestDeleteByQueryReadOnly: enabled over a read-only DB, the route
// answers 403 read_only.
func TestDeleteByQueryReadOnly(t *testing.T) {
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := newTestServer(t, New(db, Config{EnableDelete: true}, nil, testLogger(t)))
	r := doReq(t, "POST", ts.URL+deletePath, ctJSON, strings.NewReader(`{"filter":"user.name:alice"}`), false)
	r.wantError(t, http.StatusForbidden, typeReadOnly)
}
