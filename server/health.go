package server

import (
	"net/http"

	"github.com/eventlogdb/eventlog"
)

// health is the body of /healthz.
type health struct {
	Status      string   `json:"status"`
	Quarantined []string `json:"quarantined,omitempty"`
	WALPoisoned bool     `json:"wal_poisoned,omitempty"`
	SealError   string   `json:"seal_error,omitempty"`
}

// handleHealth answers GET /healthz: 200 {"status":"ok"}; 200
// {"status":"degraded",...} naming what is wrong (segments set aside in
// quarantine, a WAL poisoned by a failed fsync, a failing seal); 503
// {"status":"shutting_down"} once Run is stopping.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	if s.shuttingDown.Load() {
		return writeValue(w, http.StatusServiceUnavailable, health{Status: "shutting_down"})
	}
	return writeValue(w, http.StatusOK, healthOf(s.db.Stats()))
}

// healthOf judges the store's health from its counters.
func healthOf(st eventlog.Stats) health {
	h := health{Status: "ok", Quarantined: st.Quarantined, WALPoisoned: st.WAL.Poisoned, SealError: st.SealError}
	if len(h.Quarantined) > 0 || h.WALPoisoned || h.SealError != "" {
		h.Status = "degraded"
	}
	return h
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
