package destination

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/privacy"
)

// A destination's filter on a pseudonymised field finds the person by the
// clear value, and is kept pseudonymised.
func TestFilterOnPseudonymisedField(t *testing.T) {
	dir := t.TempDir()
	p, err := privacy.New([]byte("destination-test-key-0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := eventlog.Open(dir+"/db", eventlog.Options{AllowUnregistered: true, Pseudonymizer: p})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rc := &receiver{t: t}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "siem", URL: srv.URL, Filter: "user.name:al*"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "user.name is pseudonymised") {
		t.Fatalf("a prefix on a pseudonymised field: %v", err)
	}
	st, err := m.Put(Config{Name: "siem", URL: srv.URL, Filter: "user.name:alice", MaxDelay: Duration(time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(st.Filter, "alice") || !strings.Contains(st.Filter, p.Value("alice")) {
		t.Fatalf("kept filter %q", st.Filter)
	}
	for _, name := range []string{"bob", "alice", "carol"} {
		var ev eventlog.Event
		ev.Event.Provider, ev.Event.Action, ev.User.Name = "security", "login", name
		if _, err := db.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for len(rc.delivered()) == 0 {
		time.Sleep(time.Millisecond)
	}
	if got := rc.delivered(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("delivered %v, want alice's event (2)", got)
	}
}

// Receivers' certificates are verified: one the system does not trust
// is never sent events.
func TestVerifiesReceiverCertificate(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	srv := httptest.NewTLSServer(rc) // a self-signed certificate
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "siem", URL: srv.URL, MaxDelay: Duration(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 0, 3)
	for {
		st, _ := m.Get("siem")
		if strings.Contains(st.LastError, "certificate") {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got := rc.delivered(); len(got) != 0 {
		t.Fatalf("delivered %v to an untrusted receiver", got)
	}
}
