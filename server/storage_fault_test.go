package server

import (
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Storage faults through the API: a full disk, a failed fsync.

// probe is the answer of /healthz or /readyz, decoded.
type probe struct {
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	DiskFull string `json:"disk_full"`
	Reasons  []struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"reasons"`
}

// probe asks path (/healthz or /readyz) and checks the status code.
func (e *env) probe(path string, wantStatus int) probe {
	e.t.Helper()
	r := e.do("GET", path, "", "")
	var p probe
	r.decode(e.t, &p)
	if r.status != wantStatus {
		e.t.Fatalf("%s: %d %s, want %d", path, r.status, r.body, wantStatus)
	}
	return p
}

// notReadyTypes lists the types of /readyz's reasons.
func (p probe) notReadyTypes() string {
	var types []string
	for _, r := range p.Reasons {
		types = append(types, r.Type)
	}
	return strings.Join(types, ",")
}

func oneEvent(i int) string {
	return ev{ts: tsAt(i), provider: "actions", action: "execute", outcome: "success"}.json()
}

// TestDiskFullAnswers507UntilSpaceComesBack fills the disk under the WAL:
// ingest answers 507 disk_full naming the data directory, nothing stored;
// /healthz stays 200 but degraded, /readyz and eventlog_ready say not
// ready. Once space is back, the next ingest is stored and all is well.
func TestDiskFullAnswers507UntilSpaceComesBack(t *testing.T) {
	e, faulty := newFaultyEnv(t, Config{})
	if r := e.do("POST", "/api/events", ctJSON, oneEvent(1)); r.status != http.StatusCreated {
		t.Fatalf("first ingest: %d %s", r.status, r.body)
	}
	e.probe("/readyz", http.StatusOK)

	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	for _, req := range []struct{ path, ct, body string }{
		{"/api/events", ctJSON, oneEvent(2)},
		{"/api/events/_bulk", ctNDJSON, ndjson(oneEvent(3), oneEvent(4))},
	} {
		ae := e.do("POST", req.path, req.ct, req.body).wantError(t, http.StatusInsufficientStorage, typeDiskFull)
		if !strings.Contains(ae.Error.Reason, e.dir) || ae.Outcome != outcomeNotStored {
			t.Fatalf("%s on a full disk: reason %q, outcome %q; want the data directory %s named and outcome not_stored",
				req.path, ae.Error.Reason, ae.Outcome, e.dir)
		}
	}
	if h := e.probe("/healthz", http.StatusOK); h.Status != healthDegraded || !strings.Contains(h.DiskFull, e.dir) {
		t.Fatalf("healthz on a full disk: %+v, want degraded with disk_full naming %s", h, e.dir)
	}
	if rd := e.probe("/readyz", http.StatusServiceUnavailable); rd.Status != statusNotReady || rd.notReadyTypes() != typeDiskFull {
		t.Fatalf("readyz on a full disk: %+v, want not_ready for disk_full", rd)
	}
	if full, ready := scrapeSample(t, e, "eventlog_disk_full"), scrapeSample(t, e, "eventlog_ready"); full != "1" || ready != "0" {
		t.Fatalf("metrics on a full disk: eventlog_disk_full %s, eventlog_ready %s; want 1, 0", full, ready)
	}
	e.wantCount(1)

	faulty.Heal(vfs.OpWrite)
	if r := e.do("POST", "/api/events", ctJSON, oneEvent(5)); r.status != http.StatusCreated {
		t.Fatalf("ingest once space is back: %d %s", r.status, r.body)
	}
	e.wantCount(2)
	if rd := e.probe("/readyz", http.StatusOK); rd.Status != statusReady {
		t.Fatalf("readyz once space is back: %+v", rd)
	}
	if h := e.probe("/healthz", http.StatusOK); h.Status != healthOK {
		t.Fatalf("healthz once space is back: %+v", h)
	}
	if full, ready := scrapeSample(t, e, "eventlog_disk_full"), scrapeSample(t, e, "eventlog_ready"); full != "0" || ready != "1" {
		t.Fatalf("metrics once space is back: eventlog_disk_full %s, eventlog_ready %s; want 0, 1", full, ready)
	}
}

// TestFailedFsyncAnswersOutcomeUnknown fails the WAL's fsync: the batch
// that was written is answered 503 storage_failed with outcome unknown
// (and is indeed there after a restart); later batches, refused by the
// poisoned WAL, are answered not_stored; /healthz says the process needs
// a restart and /readyz that it takes no writes.
func TestFailedFsyncAnswersOutcomeUnknown(t *testing.T) {
	e, faulty := newFaultyEnv(t, Config{})
	if r := e.do("POST", "/api/events", ctJSON, oneEvent(1)); r.status != http.StatusCreated {
		t.Fatalf("first ingest: %d %s", r.status, r.body)
	}
	faulty.Fail(vfs.OpSync, syscall.EIO)
	ae := e.do("POST", "/api/events", ctJSON, oneEvent(2)).wantError(t, http.StatusServiceUnavailable, typeStorageFailed)
	if ae.Outcome != outcomeUnknown {
		t.Fatalf("batch whose fsync failed: outcome %q, want unknown", ae.Outcome)
	}
	faulty.Heal(vfs.OpSync)
	ae = e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(oneEvent(3))).wantError(t, http.StatusServiceUnavailable, typeStorageFailed)
	if ae.Outcome != outcomeNotStored {
		t.Fatalf("batch refused by the poisoned WAL: outcome %q, want not_stored", ae.Outcome)
	}
	if h := e.probe("/healthz", http.StatusServiceUnavailable); h.Status != healthFailed || !strings.Contains(h.Reason, "restart") {
		t.Fatalf("healthz with a poisoned WAL: %+v, want failed, saying to restart", h)
	}
	if rd := e.probe("/readyz", http.StatusServiceUnavailable); rd.notReadyTypes() != "wal_poisoned" {
		t.Fatalf("readyz with a poisoned WAL: %+v", rd)
	}

	// The restart an orchestrator does on the failed liveness probe.
	e.ts.Close()
	e.ts = nil
	if err := e.db.Close(); err == nil {
		t.Fatal("closing a poisoned store reported no error")
	}
	e.open()
	e.wantCount(2) // the unknown batch had reached the WAL; the not_stored one had not
	e.probe("/healthz", http.StatusOK)
	e.probe("/readyz", http.StatusOK)
}

// TestReadyzNoticesFreedSpaceWithoutWrites: a server that said it was not
// ready gets no writes from an orchestrator that believed it, so /readyz
// itself finds out (through a probe write) that space came back.
func TestReadyzNoticesFreedSpaceWithoutWrites(t *testing.T) {
	e, faulty := newFaultyEnv(t, Config{})
	if r := e.do("POST", "/api/events", ctJSON, oneEvent(1)); r.status != http.StatusCreated {
		t.Fatalf("first ingest: %d %s", r.status, r.body)
	}
	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	e.do("POST", "/api/events", ctJSON, oneEvent(2)).wantError(t, http.StatusInsufficientStorage, typeDiskFull)
	if rd := e.probe("/readyz", http.StatusServiceUnavailable); rd.notReadyTypes() != typeDiskFull {
		t.Fatalf("readyz on a full disk: %+v", rd)
	}
	faulty.Heal(vfs.OpWrite)
	waitFor(t, "/readyz to notice the freed space", func() bool {
		return e.do("GET", "/readyz", "", "").status == http.StatusOK
	})
	e.wantCount(1)
}
