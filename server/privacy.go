package server

import (
	"net/http"
	"time"

	"github.com/eventlogdb/eventlog/privacy"
)

// handlePrivacy answers GET /api/_privacy: the store's privacy notice
// (eventlog.DB.Notice) with who may read, from the live configuration.
func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) error {
	n := s.db.Notice()
	n.Access.MutualTLS = s.cfg.MutualTLS
	n.Access.Readers = privacy.ReadersWithoutAuth
	if s.keys != nil && s.keys.HasKeys() {
		n.Access.Authentication, n.Access.Readers = true, privacy.ReadersWithKeys
		now := time.Now()
		for _, k := range s.keys.List() {
			if k.Active(now) {
				n.Access.Keys = append(n.Access.Keys, privacy.KeyAccess{Name: k.Name, Role: k.Role.String(), Spaces: k.Spaces})
			}
		}
	}
	if s.cfg.ObjectStore != nil { // copies in a bucket outlive erasure by the grace (health_objectstore.go)
		n.Retention.Copies = s.cfg.ObjectStore().ErasureNotice()
	}
	return writeValue(w, http.StatusOK, n)
}
