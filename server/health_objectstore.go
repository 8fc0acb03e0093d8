package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventlogdb/eventlog/tiering"
)

// withObjectStore adds the uploader's state to h: failing uploads (of
// segments, or of WAL chunks with --sync-to-object-store, which hold up
// appends) make the server degraded (the local segments are kept and go up later, so a
// restart cures nothing); a writer another one displaced from its prefix
// is failed, and says why, since it no longer takes writes.
func withObjectStore(h health, status func() tiering.Status) health {
	if status == nil {
		return h
	}
	st := status()
	h.ObjectStore = &st
	switch {
	case st.Fenced != "":
		h.Status, h.Reason = healthFailed, "another writer owns the object-store prefix; this server stopped writing: "+st.Fenced
	case !st.Healthy() && h.Status == healthOK:
		h.Status = healthDegraded
	}
	return h
}

// Register adds a collector to the server's registry, as the object-store
// uploader's (tiering.Uploader.Collector). It panics on a duplicate
// metric, a programming error.
func (m *Metrics) Register(c prometheus.Collector) { m.reg.MustRegister(c) }
