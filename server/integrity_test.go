package server

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
)

// TestIntegrityRoutes signs heads through the API and checks that the
// proofs it answers verify, from the answers alone, against them.
func TestIntegrityRoutes(t *testing.T) {
	e := newEnv(t, Config{})
	if r := e.do("GET", "/api/_integrity/head", "", ""); r.status != http.StatusNotFound {
		t.Fatalf("head before the first: %d %s", r.status, r.body)
	}
	for i := range 3 {
		var docs []string
		for j := range 5 {
			docs = append(docs, fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:0%dZ","event":{"provider":"alerting","action":"execute"},"message":"m%d-%d"}`, j, i, j))
		}
		e.bulk(docs...)
		if r := e.do("POST", "/api/_integrity/head", "", ""); r.status != http.StatusOK {
			t.Fatalf("sign: %d %s", r.status, r.body)
		}
	}
	var head integrity.SignedHead
	e.do("GET", "/api/_integrity/head", "", "").decode(t, &head)
	l, _ := e.db.Integrity()
	if err := head.Verify(l.PublicKey()); err != nil || head.Size != 15 {
		t.Fatalf("head %+v: %v", head, err)
	}
	var heads struct{ Heads []integrity.SignedHead }
	e.do("GET", "/api/_integrity/heads?from=6&to=15", "", "").decode(t, &heads)
	if len(heads.Heads) != 2 || heads.Heads[0].Size != 10 {
		t.Fatalf("heads 6..15: %+v", heads)
	}
	var cons struct{ Hashes []string }
	e.do("GET", "/api/_integrity/consistency?from_size=10&to_size=15", "", "").decode(t, &cons)
	if err := integrity.VerifyConsistency(heads.Heads[0].Head, head.Head, unhexAll(t, cons.Hashes)); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 15; seq++ {
		var p integrity.ProofDoc
		e.do("GET", "/api/events/"+eventlog.IDOf(seq)+"/_proof", "", "").decode(t, &p)
		if p.Head == nil || p.Head.Root != head.Root {
			t.Fatalf("proof of %d against head %+v, want the latest", seq, p.Head)
		}
		if err := p.Verify(head.Head); err != nil {
			t.Fatalf("event %d: %v (%s)", seq, err, p.Event)
		}
		// The event as read back, decoded independently, is the one proven.
		ev, err := event.Decode(p.Event, event.Limits{})
		if err != nil || ev.Message != fmt.Sprintf("m%d-%d", (seq-1)/5, (seq-1)%5) {
			t.Fatalf("event %d: %q %v", seq, ev.Message, err)
		}
	}
	for _, path := range []string{"/api/events/00000000000000ff/_proof", "/api/events/nope/_proof"} {
		e.do("GET", path, "", "").wantError(t, http.StatusNotFound, typeNotFound)
	}
	e.do("GET", "/api/_integrity/consistency?from_size=15&to_size=99", "", "").wantError(t, http.StatusBadRequest, typeInvalidRequest)
}

func unhexAll(t *testing.T, hs []string) []integrity.Hash {
	t.Helper()
	out := make([]integrity.Hash, len(hs))
	for i, h := range hs {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != integrity.HashSize {
			t.Fatalf("hash %q", h)
		}
		out[i] = integrity.Hash(b)
	}
	return out
}
