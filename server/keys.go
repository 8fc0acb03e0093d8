package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// The key API, in the shape of Elasticsearch's (admin keys only):
//
//	POST   /api/_security/api_key        {"name","role","spaces":[...],"expiration":"90d"} → {"id","name","role","spaces","expiration","api_key","encoded"}
//	GET    /api/_security/api_key        {"api_keys":[auth.Key...]} (never a secret)
//	DELETE /api/_security/api_key/{id}   revoke it → {"invalidated_api_keys":[id]}

// keyRequest is the body of POST /api/_security/api_key.
type keyRequest struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Spaces []string `json:"spaces"`
	// Expiration is a duration ("90d", "12h"); "" never expires.
	Expiration string `json:"expiration"`
}

// KeyCreated is the answer to a key's creation: the only time its secret
// (APIKey) is shown. Encoded is what a client sends after "ApiKey ".
type KeyCreated struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       auth.Role `json:"role"`
	Spaces     []string  `json:"spaces,omitempty"`
	Expiration time.Time `json:"expiration,omitzero"`
	APIKey     string    `json:"api_key"`
	Encoded    string    `json:"encoded"`
}

// NewKeyCreated is the answer to the creation of k with secret.
func NewKeyCreated(k auth.Key, secret string) KeyCreated {
	return KeyCreated{ID: k.ID, Name: k.Name, Role: k.Role, Spaces: k.Spaces, Expiration: k.Expires,
		APIKey: secret, Encoded: auth.Encoded(k.ID, secret)}
}

// keyStore is the server's key store, or 404 when it has none.
func (s *Server) keyStore() (*auth.Store, error) {
	if s.keys == nil {
		return nil, errorf(http.StatusNotFound, typeNotFound, "API keys are not enabled on this server")
	}
	return s.keys, nil
}

// handleKeyCreate makes a key and answers its secret, once.
func (s *Server) handleKeyCreate(w http.ResponseWriter, r *http.Request) error {
	store, err := s.keyStore()
	if err != nil {
		return err
	}
	var req keyRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	spec, err := req.spec()
	if err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%v", err)
	}
	now := time.Now()
	k, secret, err := store.Create(spec, now)
	switch {
	case errors.Is(err, auth.ErrInvalid):
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%v", err)
	case err != nil:
		return err
	}
	s.record(r.Context(), KeyEvent(now, ActionKeyCreate, "success", keyOf(w), r.RemoteAddr, k))
	return writeValue(w, http.StatusOK, NewKeyCreated(k, secret))
}

// spec checks the request and makes it a key spec.
func (req *keyRequest) spec() (auth.Spec, error) {
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return auth.Spec{}, err
	}
	spec := auth.Spec{Name: req.Name, Role: role, Spaces: req.Spaces}
	if req.Expiration != "" {
		if spec.TTL, err = timespan.ParseDuration(req.Expiration); err != nil || spec.TTL <= 0 {
			return auth.Spec{}, fmt.Errorf("expiration %q: want a duration such as 90d or 12h", req.Expiration)
		}
	}
	return spec, nil
}

// KeyEvent is the audit event of action (ActionKeyCreate or
// ActionKeyRevoke) on key k, done by key by (nil: no key, as on a stopped
// store) from addr ("": the local host). It holds no secret.
func KeyEvent(now time.Time, action, outcome string, by *auth.Key, addr string, k auth.Key) eventlog.Event {
	verb := "created"
	if action == ActionKeyRevoke {
		verb = "revoked"
	}
	ev := auditEvent(now, action, outcome, by, addr, fmt.Sprintf("API key %s (%q, role %s) %s", k.ID, k.Name, k.Role, verb))
	ev.Labels = map[string]string{"key_id": k.ID, "key_name": k.Name, "role": k.Role.String()}
	if len(k.Spaces) > 0 {
		ev.Labels["spaces"] = strings.Join(k.Spaces, ",")
	}
	return ev
}

// handleKeyList lists the keys, without secrets.
func (s *Server) handleKeyList(w http.ResponseWriter, _ *http.Request) error {
	store, err := s.keyStore()
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, map[string][]auth.Key{"api_keys": store.List()})
}

// handleKeyRevoke revokes a key: from the next request on it
// authenticates nothing, and its open streams end.
func (s *Server) handleKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	store, err := s.keyStore()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	k, err := store.Revoke(id, time.Now())
	if errors.Is(err, auth.ErrNotFound) {
		return errorf(http.StatusNotFound, typeNotFound, "no API key has the id %q", id)
	}
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	s.record(r.Context(), KeyEvent(time.Now(), ActionKeyRevoke, outcome, keyOf(w), r.RemoteAddr, k))
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, map[string][]string{"invalidated_api_keys": {k.ID}})
}
