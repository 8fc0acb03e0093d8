package server

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// POST /api/ingest/gitlab receives GitLab's streamed audit events: eventlog
// is then an HTTP destination of a GitLab group or instance. GitLab sends
// one event per request, as JSON (under the Content-Type
// application/x-www-form-urlencoded, which it uses for its JSON), with the
// destination's verification token in X-Gitlab-Event-Streaming-Token. The
// token, not an API key, authenticates the request: each configured token
// stands for a writer limited to its spaces, whose events it stores in
// them. The event is mapped onto the schema (README.md, "Receiving
// GitLab's audit events"), keeps GitLab's own fields under "gitlab" as
// fields beyond the schema, and the original document in event.original;
// it is stored through the _bulk machinery (bulk.go), so overload,
// deduplication (GitLab's id is the client id) and provider registration
// work as on the other ingest routes.

// gitlabTokenHeader is the header of GitLab's verification token.
const gitlabTokenHeader = "X-Gitlab-Event-Streaming-Token"

// GitLabConfig configures the GitLab receiver.
type GitLabConfig struct {
	// Tokens are the destinations' verification tokens the receiver
	// accepts. Empty: the route answers 403, receiver disabled.
	Tokens []GitLabToken
	// Route says what a GitLab event gets as provider (empty: "gitlab")
	// and what happens to an unregistered provider/action pair (the
	// action is GitLab's event_type).
	Route IngestRoute
}

// GitLabToken is a verification token and the Kibana spaces the events it
// brings are stored in (none: the default space).
type GitLabToken struct {
	Token  string
	Spaces []string
}

// gitlabProvider is the provider of GitLab's events, unless configured.
const gitlabProvider = "gitlab"

// handleGitLab serves POST /api/ingest/gitlab.
func (s *Server) handleGitLab(w http.ResponseWriter, r *http.Request) error {
	tok, err := s.gitlabToken(r)
	if err != nil {
		return err
	}
	return s.serveBulk(w, r, bulkProtocol{
		idOutsideBody: true, // the mapped document's _id, GitLab's event id
		mediaTypes:    []string{"application/json", "application/x-www-form-urlencoded"},
		parse: func(b *bulk, body []byte) error {
			doc, err := s.mapGitLab(body, tok)
			if err != nil {
				return err
			}
			b.add(1, doc, nil)
			b.register = s.cfg.GitLab.Route.Providers == ProvidersRegister
			b.keep = true
			b.decodeAs(nil, nil)
			return nil
		},
		respond: func(b *bulk, dst []byte, _ time.Duration) ([]byte, int) {
			it := &b.items[0]
			if it.fail != 0 {
				e := b.fails[it.fail-1]
				return appendError(dst, &apiError{status: e.status, typ: e.typ, reason: e.reason}), e.status
			}
			status := http.StatusCreated
			if esResultOf(it).word == "noop" {
				status = http.StatusOK
			}
			dst = append(dst, '{')
			ev := event.Event{ClientID: it.id}
			dst = appendItemResult(dst, &ev, it.seq, it.result)
			return append(dst, '}'), status
		},
	})
}

// gitlabToken returns the configured token the request carries, checked
// in constant time against every one, or the error to answer.
func (s *Server) gitlabToken(r *http.Request) (*GitLabToken, error) {
	tokens := s.cfg.GitLab.Tokens
	if len(tokens) == 0 {
		return nil, errorf(http.StatusForbidden, typeForbidden,
			"the GitLab receiver is disabled: no verification token is configured (eventlog serve --gitlab-token-file)")
	}
	got := []byte(r.Header.Get(gitlabTokenHeader))
	var found *GitLabToken
	for i := range tokens {
		if subtle.ConstantTimeCompare(got, []byte(tokens[i].Token)) == 1 {
			found = &tokens[i]
		}
	}
	if len(got) == 0 || found == nil {
		return nil, errorf(http.StatusUnauthorized, typeUnauthenticated,
			"%s is missing or is not a configured verification token", gitlabTokenHeader)
	}
	return found, nil
}

// gitlabEvent is a streamed audit event as GitLab documents it. Ids are
// numbers in GitLab's examples and strings in its schema: both are taken.
type gitlabEvent struct {
	ID            json.RawMessage `json:"id"`
	AuthorID      json.RawMessage `json:"author_id"`
	AuthorName    string          `json:"author_name"`
	EntityID      json.RawMessage `json:"entity_id"`
	EntityType    string          `json:"entity_type"`
	EntityPath    string          `json:"entity_path"`
	TargetID      json.RawMessage `json:"target_id"`
	TargetType    string          `json:"target_type"`
	TargetDetails string          `json:"target_details"`
	IPAddress     string          `json:"ip_address"`
	EventType     string          `json:"event_type"`
	CreatedAt     string          `json:"created_at"`
	Details       json.RawMessage `json:"details"`
}

// mapGitLab maps a GitLab audit event onto an event document of the
// schema (see the table in README.md).
func (s *Server) mapGitLab(body []byte, tok *GitLabToken) ([]byte, error) {
	var g gitlabEvent
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, errorf(http.StatusBadRequest, typeInvalidEvent, "GitLab audit event: %v", err)
	}
	ids := map[string]string{}
	for name, raw := range map[string]json.RawMessage{"id": g.ID, "author_id": g.AuthorID, "entity_id": g.EntityID, "target_id": g.TargetID} {
		v, err := idText(raw)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, typeInvalidEvent, "GitLab audit event: %s: %v", name, err)
		}
		ids[name] = v
	}
	rc := &s.cfg.GitLab.Route
	doc := map[string]any{
		"message": gitlabMessage(&g),
		"event": omitEmpty(map[string]any{
			"provider": cmpOr(rc.DefaultProvider, gitlabProvider), "action": cmpOr(g.EventType, cmpOr(rc.DefaultAction, defaultAction)),
			"kind": "event", "id": ids["id"], "original": string(bytes.TrimSpace(body)),
		}),
		"user":   omitEmpty(map[string]any{"id": ids["author_id"], "name": g.AuthorName}),
		"gitlab": omitEmpty(map[string]any{"entity_path": g.EntityPath, "target_details": g.TargetDetails, "details": g.Details}),
	}
	if g.CreatedAt != "" {
		doc["@timestamp"] = g.CreatedAt
	}
	if ip := net.ParseIP(g.IPAddress); ip != nil {
		doc["source"] = map[string]any{"ip": g.IPAddress}
	}
	if ids["id"] != "" {
		doc[event.ClientIDField] = "gitlab-" + ids["id"]
	}
	kibana := map[string]any{}
	if refs := gitlabRefs(&g, ids); len(refs) > 0 {
		kibana["saved_objects"] = refs
	}
	if len(tok.Spaces) > 0 {
		kibana["space_ids"] = tok.Spaces
	}
	if len(kibana) > 0 {
		doc["kibana"] = kibana
	}
	return json.Marshal(doc)
}

// gitlabRefs are the saved-object references of an event: the entity
// (primary) and the target.
func gitlabRefs(g *gitlabEvent, ids map[string]string) []map[string]string {
	var refs []map[string]string
	if g.EntityType != "" && ids["entity_id"] != "" {
		refs = append(refs, map[string]string{"rel": event.RelPrimary, "type": g.EntityType, "id": ids["entity_id"]})
	}
	if g.TargetType != "" && ids["target_id"] != "" {
		refs = append(refs, map[string]string{"type": g.TargetType, "id": ids["target_id"]})
	}
	return refs
}

// gitlabMessage is the message of a GitLab event: who did what to which
// entity.
func gitlabMessage(g *gitlabEvent) string {
	who := cmpOr(g.AuthorName, "someone")
	what := cmpOr(g.EventType, "an audited action")
	on := strings.TrimSpace(g.EntityType + " " + g.EntityPath)
	if on == "" {
		return fmt.Sprintf("GitLab: %s: %s", who, what)
	}
	return fmt.Sprintf("GitLab: %s: %s on %s", who, what, on)
}

// idText is the text of an id sent as a JSON number or string ("" when
// absent or null).
func idText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("want a number or a string, got %.40s", raw)
	}
	return n.String(), nil
}

// omitEmpty drops the members whose value is an empty string or empty
// JSON.
func omitEmpty(m map[string]any) map[string]any {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if v == "" {
				delete(m, k)
			}
		case json.RawMessage:
			if len(bytes.TrimSpace(v)) == 0 || string(v) == "null" {
				delete(m, k)
			}
		}
	}
	return m
}
