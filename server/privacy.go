package server

import (
	"net/http"

	"github.com/eventlogdb/eventlog/privacy"
)

// handlePrivacy answers GET /api/_privacy: the store's privacy notice
// (eventlog.DB.Notice) with who may read, from the live configuration.
func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) error {
	n := s.db.Notice()
	n.Access.MutualTLS = s.cfg.MutualTLS
	n.Access.Readers = privacy.ReadersWithoutAuth
	return writeValue(w, http.StatusOK, n)
}
