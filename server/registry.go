package server

import (
	"net/http"
	"slices"
)

// handleProviders lists the registered providers and their actions, and
// what the outside-tool routes do with documents without them: GET
// /api/providers → {"providers":{"alerting":["execute",...]},
// "ingest_routes":{"es":{"default_provider":...,"unregistered_policy":...}}}.
func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) error {
	return writeValue(w, http.StatusOK, map[string]any{
		"providers": s.db.ProviderActions(),
		"ingest_routes": map[string]any{
			"es":     s.cfg.ES.describe("the index name"),
			"gitlab": s.cfg.GitLab.Route.describe(gitlabProvider),
		},
	})
}

// registerBody is the body of PUT /api/providers/{provider}.
type registerBody struct {
	Actions []string `json:"actions"`
}

// handleRegister registers actions of a provider (idempotent): PUT
// /api/providers/{provider} {"actions":[...]} → 200 with the provider's
// actions, old and new.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	provider := r.PathValue("provider")
	var body registerBody
	if err := s.readJSONBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Actions) == 0 || slices.Contains(body.Actions, "") {
		return errorf(http.StatusBadRequest, typeInvalidRequest,
			`the body must list the actions to register, none empty: {"actions":["execute",...]}`)
	}
	if err := s.db.RegisterProviderActions(provider, body.Actions...); err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, map[string]any{
		"provider": provider,
		"actions":  s.db.ProviderActions()[provider],
	})
}
