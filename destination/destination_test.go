package destination

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a loopback HTTP receiver that records every request and
// answers what fail says.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []received
	// fail, when set, answers a request with a status instead of 200.
	fail func(n int, r received) int
	n    int
}

type received struct {
	key  string
	seqs []uint64
	docs []map[string]any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	ts := r.Header.Get(HeaderTimestamp)
	if rc.secret != "" && r.Header.Get(HeaderSignature) != Sign(rc.secret, ts, body.Bytes()) {
		rc.t.Errorf("bad signature %q", r.Header.Get(HeaderSignature))
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		rc.t.Errorf("timestamp %q", ts)
	}
	rec := received{key: r.Header.Get(HeaderIdempotencyKey)}
	sc := bufio.NewScanner(&body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			rc.t.Errorf("line %q: %v", sc.Text(), err)
		}
		rec.docs = append(rec.docs, doc)
		rec.seqs = append(rec.seqs, uint64(doc["_seq"].(float64)))
	}
	if want := fmt.Sprintf("%d-%d", rec.seqs[0], rec.seqs[len(rec.seqs)-1]); rec.key != want {
		rc.t.Errorf("idempotency key %q for a batch %s", rec.key, want)
	}
	rc.mu.Lock()
	rc.n++
	n := rc.n
	status := 200
	if rc.fail != nil {
		status = rc.fail(n, rec)
	}
	if status == 200 {
		rc.got = append(rc.got, rec)
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

// delivered returns the sequence numbers accepted, deduplicated by
// idempotency key, checking duplicates are whole batches.
func (rc *receiver) delivered() []uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	seen := map[string][]uint64{}
	var out []uint64
	for _, r := range rc.got {
		if prev, ok := seen[r.key]; ok {
			if fmt.Sprint(prev) != fmt.Sprint(r.seqs) {
				rc.t.Errorf("batch %s delivered twice with different events", r.key)
			}
			continue
		}
		seen[r.key] = r.seqs
		out = append(out, r.seqs...)
	}
	return out
}

func openDB(t *testing.T, dir string) *eventlog.DB {
	t.Helper()
	db, err := eventlog.Open(dir, eventlog.Options{AllowUnregistered: true, Sync: eventlog.SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func appendN(t *testing.T, db *eventlog.DB, from, n int) {
	t.Helper()
	var batch []eventlog.Event
	for i := from; i < from+n; i++ {
		var ev eventlog.Event
		ev.Event.Provider = []string{"security", "alerting"}[i%2]
		ev.Event.Action = "act"
		ev.Message = fmt.Sprint("event ", i)
		batch = append(batch, ev)
	}
	if _, err := db.Append(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func seqRangeOf(from, to, step uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s += step {
		out = append(out, s)
	}
	return out
}

var fastRetry = Options{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, SecretsKey: testSecretsKey}

// testSecretsKey seals the tests' destination secrets.
var testSecretsKey = []byte("0123456789abcdef0123456789abcdef")

func TestDeliversSignedFilteredInOrder(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t, secret: "s3cret"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	appendN(t, db, 0, 10) // before the destination: skipped with start "now"
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "siem", URL: srv.URL, Secret: "s3cret", Filter: "event.provider:security", BatchSize: 7, MaxDelay: Duration(5 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 100; i += 10 {
		appendN(t, db, i, 10)
	}
	want := seqRangeOf(11, 99, 2) // security events are the odd sequence numbers
	waitFor(t, "delivery", func() bool { return len(rc.delivered()) >= len(want) })
	if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v\nwant %v", got, want)
	}
	// The last event (100) is filtered out: the cursor passes it anyway, so
	// the destination shows no lag and does not hold retention back.
	waitFor(t, "the cursor past the filtered tail", func() bool { st, _ := m.Get("siem"); return st.Cursor == 100 })
	st, err := m.Get("siem")
	if err != nil || st.LagEvents != 0 || st.LagSeconds != 0 || st.Secret != "" || !st.HasSecret || st.DeliveredEvents != uint64(len(want)) {
		t.Fatalf("status %+v, %v", st, err)
	}
	if b, _ := json.Marshal(st); strings.Contains(string(b), "s3cret") {
		t.Fatalf("status shows the secret: %s", b)
	}
}

// TestRetriesOutagesAndSplits: the receiver fails with 500s, goes away,
// refuses large batches with 413; every event still arrives once per
// idempotency key, in order.
func TestRetriesOutagesAndSplits(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	var down sync.Mutex // held while the receiver is "away"
	rc.fail = func(n int, r received) int {
		switch {
		case n <= 3:
			return 500
		case len(r.seqs) > 4:
			return 413
		case n%5 == 0:
			return 429
		}
		return 200
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Lock() // blocks while the test holds it: the receiver is away
		defer down.Unlock()
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "r", URL: srv.URL, Start: "beginning", BatchSize: 16, MaxDelay: Duration(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 0, 50)
	down.Lock()
	appendN(t, db, 50, 50)
	time.Sleep(50 * time.Millisecond) // requests pile up against the outage
	down.Unlock()
	appendN(t, db, 100, 50)
	want := seqRangeOf(1, 150, 1)
	waitFor(t, "delivery", func() bool { return len(rc.delivered()) >= len(want) })
	if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v\nwant %v", got, want)
	}
	if st, _ := m.Get("r"); st.Retries == 0 {
		t.Fatalf("no retries counted: %+v", st)
	}
}

// TestParksAndResumes: a receiver refusing with 400 parks the destination
// after MaxAttempts with the reason; Resume delivers the same batch.
func TestParksAndResumes(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	var refuse sync.Mutex
	refusing := true
	rc.fail = func(int, received) int {
		refuse.Lock()
		defer refuse.Unlock()
		if refusing {
			return 400
		}
		return 200
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "r", URL: srv.URL, Start: "beginning", MaxAttempts: 3, MaxDelay: Duration(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 0, 5)
	waitFor(t, "parking", func() bool { st, _ := m.Get("r"); return st.Parked != "" })
	st, _ := m.Get("r")
	if !strings.Contains(st.Parked, "400") || st.InFlight == nil || st.Cursor != 0 {
		t.Fatalf("parked status %+v", st)
	}
	refuse.Lock()
	refusing = false
	refuse.Unlock()
	if _, err := m.Resume("r"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after resume", func() bool { return len(rc.delivered()) == 5 })
	waitFor(t, "cursor", func() bool { st, _ := m.Get("r"); return st.Cursor == 5 && st.Parked == "" })
}

// TestRestartResendsInFlightBatch: stopping mid-delivery leaves the batch
// in flight on disk; a new Manager sends the same batch (same key) first.
func TestRestartResendsInFlightBatch(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	block := make(chan struct{})
	entered := make(chan string, 1)
	first := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first {
			first = false
			entered <- r.Header.Get(HeaderIdempotencyKey)
			<-block // never answered: the manager is stopped meanwhile
			return
		}
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(block)
	cfg := Config{Name: "r", URL: srv.URL, Start: "beginning", BatchSize: 4, MaxDelay: Duration(time.Millisecond)}
	m, err := Open(db, dir+"/dest", []Config{cfg}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 0, 10)
	key := <-entered
	m.Close()
	m, err = Open(db, dir+"/dest", []Config{cfg}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	waitFor(t, "delivery", func() bool { return len(rc.delivered()) == 10 })
	rc.mu.Lock()
	firstKey := rc.got[0].key
	rc.mu.Unlock()
	if firstKey != key {
		t.Fatalf("after restart the first batch was %s, want the in-flight %s", firstKey, key)
	}
	if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint(seqRangeOf(1, 10, 1)) {
		t.Fatalf("delivered %v", got)
	}
}

func TestFixedAndAPIDestinations(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	fixed := Config{Name: "audit", URL: "http://127.0.0.1:1/"}
	m, err := Open(db, dir+"/dest", []Config{fixed}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(Config{Name: "audit", URL: "http://127.0.0.1:2/"}); !errors.Is(err, ErrFixed) {
		t.Fatalf("put over a fixed destination: %v", err)
	}
	if err := m.Delete("audit"); !errors.Is(err, ErrFixed) {
		t.Fatalf("delete a fixed destination: %v", err)
	}
	if _, err := m.Put(Config{Name: "siem", URL: "ftp://x"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "http or https") {
		t.Fatalf("bad url: %v", err)
	}
	if _, err := m.Put(Config{Name: "siem", URL: "http://127.0.0.1:3/", Filter: "event.provider:"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "filter: at") {
		t.Fatalf("bad filter: %v", err)
	}
	if _, err := m.Put(Config{Name: "siem", URL: "http://127.0.0.1:3/", Secret: "x"}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	// The API-created one persists; naming it in the config file too is an error.
	if _, err := Open(db, dir+"/dest", []Config{fixed, {Name: "siem", URL: "http://127.0.0.1:4/"}}, fastRetry); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("a name in both: %v", err)
	}
	m, err = Open(db, dir+"/dest", []Config{fixed}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if list := m.List(); len(list) != 2 || list[1].Name != "siem" || list[1].Fixed || !list[0].Fixed || !list[1].HasSecret {
		t.Fatalf("list %+v", list)
	}
	if err := m.Delete("siem"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("siem"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestSignMatchesDocumentedRecipe(t *testing.T) {
	// printf '1700000000.body' | openssl dgst -sha256 -hmac key
	const want = "sha256=47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e"
	if got := Sign("key", "1700000000", []byte("body")); got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
}

// TestFilterChangeWhileInFlight: replacing the filter while a batch is in
// flight drops that batch (cut with the old filter) and delivers from the
// cursor under the new one, instead of retrying a rebuild for ever.
func TestFilterChangeWhileInFlight(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	var mu sync.Mutex
	down := true
	rc.fail = func(int, received) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503
		}
		return 200
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := Config{Name: "r", URL: srv.URL, Start: "beginning", BatchSize: 4, MaxDelay: Duration(time.Millisecond)}
	if _, err := m.Put(cfg); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 0, 10)
	waitFor(t, "a batch in flight", func() bool { st, _ := m.Get("r"); return st.InFlight != nil })
	cfg.Filter = "event.provider:alerting"
	if _, err := m.Put(cfg); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	want := seqRangeOf(2, 10, 2) // alerting events are the even sequence numbers
	waitFor(t, "delivery under the new filter", func() bool { return len(rc.delivered()) >= len(want) })
	if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}
