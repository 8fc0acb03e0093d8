package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/tiering"
)

// NodeConfig makes the server a read-only query node (eventlog serve
// --from-object-store --read-only): its store follows a writer's bucket
// (tiering.Follower), so every route that would write answers 405
// read_only naming the writer, /healthz reports the manifest served and
// its age, and /readyz is ready while the node serves reads.
type NodeConfig struct {
	// Store names the bucket prefix followed.
	Store string
	// WriterURL, when set, is the writer's address, for the refusal.
	WriterURL string
	// Status reports the follower.
	Status func() tiering.FollowStatus
}

// readPosts are the routes that take a POST, need more than a reader's
// key, and still only read.
var readPosts = map[string]bool{"POST /api/_privacy/_reveal": true}

// refusedOnNode reports whether a read-only node refuses rt: every route
// that is not a GET (or HEAD, which GET patterns serve) and not open to a
// reader's key writes something — events, keys, holds, destinations,
// registrations, segments — except those of readPosts.
func refusedOnNode(rt route) bool {
	method, _, _ := strings.Cut(rt.pattern, " ")
	if readPosts[rt.pattern] {
		return false
	}
	return method != http.MethodGet && rt.rule.need != auth.Reader
}

// refuseOnNode is the handler of a refused route.
func (s *Server) refuseOnNode(w http.ResponseWriter, r *http.Request) error {
	where := "to the writer that publishes to " + s.cfg.Node.Store
	if s.cfg.Node.WriterURL != "" {
		where = "to the writer at " + s.cfg.Node.WriterURL
	}
	return errorf(http.StatusMethodNotAllowed, typeReadOnly, "this node is read-only (it serves %s); send %s %s %s",
		s.cfg.Node.Store, r.Method, r.URL.Path, where)
}

// withNode adds the follower's state to h: a node whose polls fail is
// degraded (it serves its last manifest, which ages).
func withNode(h health, node *NodeConfig) health {
	if node == nil || node.Status == nil {
		return h
	}
	st := node.Status()
	h.Node = &st
	if st.LastError != "" && h.Status == healthOK {
		h.Status, h.Reason = healthDegraded, "the node cannot read the bucket; it serves manifest "+strconv.FormatUint(st.Manifest, 10)+" meanwhile: "+st.LastError
	}
	return h
}

// nodeReadiness is a node's /readyz: ready to serve reads (a node never
// takes writes; its store is read-only by design) unless shutting down.
func nodeReadiness(shuttingDown bool) readiness {
	if shuttingDown {
		return readiness{Status: statusNotReady, Reasons: []notReadyWhy{{healthShuttingDown, "the server is shutting down"}}}
	}
	return readiness{Status: statusReady}
}
