package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/query"
)

var testPseudonymKey = []byte("k3y-that-must-never-be-stored-0123456789")

// Every way in stores pseudonyms, every filter finds them by the clear
// value, and neither the names nor the key reach the data directory, the
// logs or the answers.
func TestPseudonymisedStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := privacy.New(testPseudonymKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	opts := Options{AllowUnregistered: true, Pseudonymizer: p, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	login := func(name, ip string) Event {
		var ev Event
		ev.Event.Provider, ev.Event.Action = "security", "login"
		ev.User.Name, ev.User.Email, ev.Source.IP = name, name+"@example.com", ip
		return ev
	}
	if _, err := db.Append(ctx, login("alice", "10.0.0.1"), login("bob", "::1"), login("alice", "0:0:0:0:0:0:0:1")); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil { // some in a segment, some in the head
		t.Fatal(err)
	}
	db.Logger(Event{}).Log(login("carol", "10.0.0.2"))
	if _, err := db.Append(ctx, login("alice", "10.0.0.3")); err != nil {
		t.Fatal(err)
	}
	var answers strings.Builder
	count := func(filter string) int {
		t.Helper()
		res, err := db.Query(ctx, query.Request{Filter: filter, PerPage: 100})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		for _, h := range res.Hits {
			answers.Write(event.AppendJSON(nil, &h.Event))
		}
		return res.Total
	}
	for len(answersOf(t, db)) < 5 { // the Logger appends in the background
	}
	for filter, want := range map[string]int{
		"user.name:alice":                        3,
		"user.email:bob@example.com":             1,
		`source.ip:"::1"`:                        2, // two spellings of one address
		"not user.name:alice":                    2,
		"user.name:carol and source.ip:10.0.0.2": 1,
		`user.name:"` + p.Value("bob") + `"`:     1,
	} {
		if got := count(filter); got != want {
			t.Errorf("%s: %d events, want %d", filter, got, want)
		}
	}
	for _, filter := range []string{"user.name:al*", "source.ip:10.0.0.0/8"} {
		if _, err := db.Query(ctx, query.Request{Filter: filter}); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "is pseudonymised") {
			t.Errorf("%s: %v", filter, err)
		}
	}
	agg, err := db.Aggregate(ctx, query.Request{Aggs: map[string]query.Agg{"users": {Terms: &query.TermsAgg{Field: "user.name"}}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(agg)
	answers.Write(b)
	if !strings.Contains(string(b), `"key":"`+p.Value("alice")+`","count":3`) {
		t.Errorf("terms of user.name: %s", b)
	}
	bad := login("dave", "10.0.0.4")
	bad.Event.Original = `{"user":{"name":"dave"}}`
	var inv *InvalidEventsError
	if _, err := db.Append(ctx, bad); !errors.As(err, &inv) || !errors.Is(inv.Items[0].Err, privacy.ErrOriginal) {
		t.Errorf("event.original: %v", err)
	}
	res, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:bob"})
	if err != nil || res.Deleted != 1 {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if got := count("user.name:bob"); got != 0 {
		t.Errorf("after the delete: %d events of bob", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Read back without the key: what is stored holds pseudonyms only.
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	stored := strings.Join(answersOf(t, ro), "\n")
	ro.Close()
	for _, clear := range []string{"alice", "bob", "carol", "10.0.0.1", `"::1"`} {
		if strings.Contains(stored, clear) {
			t.Errorf("%q is stored in the clear:\n%s", clear, stored)
		}
	}
	secrets := [][]byte{testPseudonymKey, []byte("alice"), []byte("bob@")}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
	for where, text := range map[string]string{"logs": logs.String(), "answers": answers.String()} {
		if strings.Contains(text, string(testPseudonymKey)) {
			t.Errorf("the key is in the %s", where)
		}
	}
}

// answersOf returns every stored event (deleted ones too, all spaces)
// as JSON.
func answersOf(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	err := db.Export(context.Background(), query.Request{Filter: "not event.provider:" + InternalProvider}, func(h query.Hit) error {
		out = append(out, string(event.AppendJSON(nil, &h.Event)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A retention rule and a tail filter on a pseudonymised field select by
// the clear value.
func TestPseudonymisedRuleAndTail(t *testing.T) {
	p, err := privacy.New(testPseudonymKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, Pseudonymizer: p, MaintenanceInterval: -1,
		Now:            func() time.Time { return now },
		RetentionRules: []RetentionRule{{Filter: "user.name:alice", MaxAge: time.Hour}}})
	for _, name := range []string{"alice", "bob"} {
		e := ev("security", "login", "")
		e.Timestamp = event.DateOf(now.Add(-2 * time.Hour))
		e.User.Name = name
		if _, err := db.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Query(ctx, query.Request{})
	if err != nil || res.Total != 1 || res.Hits[0].Event.User.Name != p.Value("bob") {
		t.Fatalf("the rule on alice: %+v %v", res, err)
	}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tail, err := db.Tail(tctx, TailRequest{Filter: "user.name:bob", From: 1})
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := range tail {
		if err != nil || rec.Seq != 2 {
			t.Fatalf("tail of bob: %d %v", rec.Seq, err)
		}
		break
	}
	if _, err := db.Tail(ctx, TailRequest{Filter: "user.name:b*"}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("a tail with a prefix on a pseudonymised field: %v", err)
	}
}

// The store records that it pseudonymises: a second key is refused, and
// an open without a key refuses clear values and filters by them, while
// reads and pseudonym values still work.
func TestPseudonymsRecord(t *testing.T) {
	dir := t.TempDir()
	p, err := privacy.New(testPseudonymKey, []string{"user.name"})
	if err != nil {
		t.Fatal(err)
	}
	login := func(name string) Event {
		e := ev("security", "login", "")
		e.User.Name = name
		return e
	}
	db := mustOpen(t, dir, Options{AllowUnregistered: true, Pseudonymizer: p})
	if _, err := db.Append(ctx, login("alice")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	other, _ := privacy.New([]byte("another-key-of-at-least-32-bytes!!"), []string{"user.name"})
	if _, err := Open(dir, Options{Pseudonymizer: other}); err == nil || !strings.Contains(err.Error(), "not the one this store's pseudonyms were made with") {
		t.Fatalf("a second key: %v", err)
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	var inv *InvalidEventsError
	if _, err := db.Append(ctx, login("bob")); !errors.As(err, &inv) || !errors.Is(inv.Items[0].Err, privacy.ErrNoKey) {
		t.Fatalf("a clear value without the key: %v", err)
	}
	if _, err := db.Append(ctx, login(p.Value("bob")), ev("security", "logout", "")); err != nil {
		t.Fatalf("a pseudonym and an event without the field: %v", err)
	}
	if _, err := db.Query(ctx, query.Request{Filter: "user.name:alice"}); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "needs the store's pseudonym key") {
		t.Fatalf("a filter by a clear value without the key: %v", err)
	}
	res, err := db.Query(ctx, query.Request{Filter: `user.name:"` + p.Value("alice") + `" or user.name:*`})
	if err != nil || res.Total != 2 {
		t.Fatalf("reads without the key: %+v %v", res, err)
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true, Pseudonymizer: p})
	if res, err := db.Query(ctx, query.Request{Filter: "user.name:bob"}); err != nil || res.Total != 1 {
		t.Fatalf("with the key again: %+v %v", res, err)
	}
}
