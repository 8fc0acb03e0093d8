package server

import (
	"net/http"

	"github.com/eventlogdb/eventlog"
)

// typeDisabled is the error type of a route the server was not configured
// to serve.
const typeDisabled = "disabled"

// errDeleteDisabled is the answer of _delete_by_query on a server without
// Config.EnableDelete. It is 403, not 404: the route exists, and an
// operator reading the answer learns why it refuses and how to allow it.
var errDeleteDisabled = errorf(http.StatusForbidden, typeDisabled,
	"delete by query is off on this server: start it with --enable-delete "+
		"(or EVENTLOG_ENABLE_DELETE=true, or enable-delete: true in its config file)")

// handleDeleteByQuery deletes the events a query selects (DB.Delete):
// POST /api/events/_delete_by_query {"filter":KQL,"start":T,"end":T}
// [?timeout=DURATION] → 200 {"deleted":N,"seq":S,"filter_sha256":H,
// "blocked":B} (B: events incident holds pin, deleted on release). The
// body is decoded strictly; a bad one (no filter, bad KQL or time) is 400
// naming the problem, and nothing is stored. Off unless
// Config.EnableDelete: 403 disabled, before the body is read.
func (s *Server) handleDeleteByQuery(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.EnableDelete {
		return errDeleteDisabled
	}
	ctx, cancel, err := s.adminContext(w, r, nil)
	if err != nil {
		return err
	}
	defer cancel()
	var req eventlog.DeleteRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	res, err := s.db.Delete(ctx, req)
	if err != nil {
		// Delete stores nothing before its count is done, and nothing
		// after that heeds ctx: a timeout left the store as it was.
		return stoppedEarly(writeFailed(err), "delete by query", "nothing was deleted")
	}
	// Who asked, for the operator; never the filter, which may name the
	// person whose events were erased.
	s.log.Info("delete by query", "remote", r.RemoteAddr, "deleted", res.Deleted, "blocked_by_holds", res.Blocked,
		"seq", res.Seq, "filter_sha256", res.FilterSHA256)
	return writeValue(w, http.StatusOK, res)
}
