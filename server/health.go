package server

import (
	"fmt"
	"net/http"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/tiering"
)

// Liveness (/healthz) and readiness (/readyz) are separate, so that an
// orchestrator neither restarts a server whose disk is full (restarting
// frees no space) nor keeps one whose store only a reopen can mend:
//
//   - /healthz: alive. 200 "ok", or 200 "degraded" naming what is wrong
//     but not cured by a restart (quarantined segments, a failing seal, a
//     full disk); 503 "failed" when the process must be restarted (the
//     store stopped writing, its WAL poisoned, after a failed fsync left
//     its files in an unknown state: only reopening the store clears it,
//     and we restart rather than reopen in-process, so that an operator
//     sees it happen); 503 "shutting_down" once Run is stopping.
//   - /readyz: ready to take writes. 200 "ready"; 503 "not_ready" while
//     the disk is full, the store is read-only or poisoned, or the server
//     is shutting down, naming each reason.
//
// While the disk is known full, both probes have the store check whether
// space came back (see stats).

// health is the body of /healthz.
type health struct {
	Status      string   `json:"status"`
	Reason      string   `json:"reason,omitempty"`
	Quarantined []string `json:"quarantined,omitempty"`
	WALPoisoned bool     `json:"wal_poisoned,omitempty"`
	SealError   string   `json:"seal_error,omitempty"`
	DiskFull    string   `json:"disk_full,omitempty"`
	// HeldOverMaxBytes is how far incident holds keep the store above its
	// size bound (retention may not drop held segments): degraded, since
	// the bound the operator set no longer holds, until a hold is released.
	HeldOverMaxBytes int64 `json:"held_over_max_bytes,omitempty"`
	// ObjectStore is the object-store uploader's state, when the store is
	// tiered (health_objectstore.go).
	ObjectStore *tiering.Status `json:"object_store,omitempty"`
	// Node is the follower's state on a read-only query node (node.go):
	// the manifest served, its age, the last failed poll.
	Node *tiering.FollowStatus `json:"object_store_node,omitempty"`
}

// Health statuses.
const (
	healthOK           = "ok"
	healthDegraded     = "degraded"
	healthFailed       = "failed"
	healthShuttingDown = "shutting_down"
	statusReady        = "ready"
	statusNotReady     = "not_ready"
)

// reasonPoisoned says why a poisoned store needs a restart.
const reasonPoisoned = "the store stopped writing because a failed fsync (or write, or manifest replacement) left its files in an unknown state: only reopening it clears that; restart the server"

// handleHealth answers GET /healthz (see above).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	if s.shuttingDown.Load() {
		return writeValue(w, http.StatusServiceUnavailable, health{Status: healthShuttingDown})
	}
	h := withNode(withObjectStore(healthOf(s.stats()), s.cfg.ObjectStore), s.cfg.Node)
	status := http.StatusOK
	if h.Status == healthFailed {
		status = http.StatusServiceUnavailable
	}
	return writeValue(w, status, h)
}

// stats returns the store's counters for a probe: while the disk is known
// full, the store first checks whether space came back (DB.CheckDiskFull),
// so that a server no one writes to, because it said it was not ready,
// still becomes ready once space is freed.
func (s *Server) stats() eventlog.Stats {
	st := s.db.Stats()
	if st.DiskFull != "" {
		st.DiskFull = s.db.CheckDiskFull()
	}
	return st
}

// healthOf judges the store's health from its counters.
func healthOf(st eventlog.Stats) health {
	h := health{Status: healthOK, Quarantined: st.Quarantined, WALPoisoned: st.WAL.Poisoned,
		SealError: st.SealError, DiskFull: st.DiskFull, HeldOverMaxBytes: st.Holds.OverMaxBytes}
	switch {
	case h.WALPoisoned:
		h.Status, h.Reason = healthFailed, reasonPoisoned
	case len(h.Quarantined) > 0 || h.SealError != "" || h.DiskFull != "":
		h.Status = healthDegraded
	case h.HeldOverMaxBytes > 0:
		h.Status = healthDegraded
		h.Reason = fmt.Sprintf("incident holds keep the store %d bytes above its retention max bytes: release a hold (GET /api/_holds lists them) or raise the bound", h.HeldOverMaxBytes)
	}
	return h
}

// readiness is the body of /readyz.
type readiness struct {
	Status  string        `json:"status"`
	Reasons []notReadyWhy `json:"reasons,omitempty"`
}

// notReadyWhy is one reason the store takes no writes: a type
// (disk_full, read_only, wal_poisoned, shutting_down) and its reason.
type notReadyWhy struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// handleReady answers GET /readyz (see above).
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	rd := readinessOf(s.stats(), s.shuttingDown.Load())
	if s.cfg.Node != nil {
		rd = nodeReadiness(s.shuttingDown.Load())
	}
	status := http.StatusOK
	if rd.Status != statusReady {
		status = http.StatusServiceUnavailable
	}
	return writeValue(w, status, rd)
}

// readinessOf judges from the store's counters whether it takes writes.
func readinessOf(st eventlog.Stats, shuttingDown bool) readiness {
	var why []notReadyWhy
	add := func(typ, reason string) { why = append(why, notReadyWhy{typ, reason}) }
	if shuttingDown {
		add(healthShuttingDown, "the server is shutting down")
	}
	if st.ReadOnly {
		add(typeReadOnly, "the store is open read-only")
	}
	if st.WAL.Poisoned {
		add("wal_poisoned", reasonPoisoned)
	}
	if st.DiskFull != "" {
		add(typeDiskFull, st.DiskFull)
	}
	if len(why) > 0 {
		return readiness{Status: statusNotReady, Reasons: why}
	}
	return readiness{Status: statusReady}
}

// statsDoc is the body of /api/_stats: db.Stats() with "segments" listing
// the live segments; their count moves to "segment_count".
type statsDoc struct {
	eventlog.Stats
	SegmentCount int                    `json:"segment_count"`
	Segments     []eventlog.SegmentInfo `json:"segments"`
}

// handleStats answers GET /api/_stats.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	doc := statsDoc{Stats: s.db.Stats(), Segments: s.db.Segments()}
	doc.SegmentCount = doc.Stats.Segments
	if doc.Quarantined == nil {
		doc.Quarantined = []string{}
	}
	if doc.Segments == nil {
		doc.Segments = []eventlog.SegmentInfo{}
	}
	return writeValue(w, http.StatusOK, doc)
}
