package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// gitlabPost posts a GitLab event as GitLab does: its JSON under the form
// content type, with the verification token.
func (e *env) gitlabPost(token string, body []byte) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.ts.URL+"/api/ingest/gitlab", strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Gitlab-Audit-Event-Type", "repository_git_operation")
	if token != "" {
		req.Header.Set(gitlabTokenHeader, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: []byte(b.String())}
}

// TestGitLabMapping posts GitLab's documented payloads and checks each
// mapped field against the table in README.md; a repeat of the same
// event (GitLab's id) is not stored again.
func TestGitLabMapping(t *testing.T) {
	const token = "8f0aa7e4c1d94b2a9c3e"
	e := newEnv(t, Config{GitLab: GitLabConfig{Tokens: []GitLabToken{{Token: token, Spaces: []string{"gitlab-audit"}}}}})
	for _, c := range []struct {
		file, ts, id, entity, target, path string
	}{
		{"git-ssh-fetch.json", "2022-02-23T06:21:05.283Z", "1", "29", "29", "example-group/example-project"},
		{"git-operation-mr88509.json", "2022-05-25T06:49:15.213Z", "1653461355", "6", "6", "flightjs/Flight"},
	} {
		body, err := os.ReadFile("testdata/gitlab/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		r := e.gitlabPost(token, body)
		if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"_id":"gitlab-`+c.id+`"`) {
			t.Fatalf("%s: %d %s", c.file, r.status, r.body)
		}
		if r = e.gitlabPost(token, body); r.status != http.StatusOK || !strings.Contains(string(r.body), `"result":"noop"`) {
			t.Fatalf("%s again: %d %s, want 200 noop", c.file, r.status, r.body)
		}
		raw, _ := e.searchAll("/api/events/_search", url.Values{"filter": {`event.id:"` + c.id + `"`}})
		if len(raw) != 1 {
			t.Fatalf("%s: %d events with event.id %s, want 1", c.file, len(raw), c.id)
		}
		var got struct {
			ID     string `json:"_id"`
			TS     string `json:"@timestamp"`
			Event  struct{ Provider, Action, Kind, ID, Original string }
			User   struct{ ID, Name string }
			Source struct {
				IP string
			}
			Kibana struct {
				SpaceIDs     []string                         `json:"space_ids"`
				SavedObjects []struct{ Rel, Type, ID string } `json:"saved_objects"`
			}
			Gitlab struct {
				EntityPath    string          `json:"entity_path"`
				TargetDetails string          `json:"target_details"`
				Details       json.RawMessage `json:"details"`
			}
		}
		if err := json.Unmarshal(raw[0], &got); err != nil {
			t.Fatal(err)
		}
		var orig map[string]any
		if err := json.Unmarshal([]byte(got.Event.Original), &orig); err != nil {
			t.Fatalf("event.original is not the document: %v", err)
		}
		var sent map[string]any
		json.Unmarshal(body, &sent)
		details, _ := json.Marshal(sent["details"])
		var gotDetails any
		json.Unmarshal(got.Gitlab.Details, &gotDetails)
		gd, _ := json.Marshal(gotDetails)
		refs := got.Kibana.SavedObjects
		switch {
		case got.ID != "gitlab-"+c.id || got.TS != c.ts:
			t.Errorf("%s: _id %q @timestamp %q", c.file, got.ID, got.TS)
		case got.Event.Provider != "gitlab" || got.Event.Action != "repository_git_operation" || got.Event.ID != c.id:
			t.Errorf("%s: event %+v", c.file, got.Event)
		case got.User.ID != "1" || got.User.Name != "Administrator" || got.Source.IP != "127.0.0.1":
			t.Errorf("%s: user %+v source %+v", c.file, got.User, got.Source)
		case len(refs) != 2 || refs[0].Rel != "primary" || refs[0].Type != "Project" || refs[0].ID != c.entity ||
			refs[1].Rel != "" || refs[1].Type != "Project" || refs[1].ID != c.target:
			t.Errorf("%s: references %+v", c.file, refs)
		case len(got.Kibana.SpaceIDs) != 1 || got.Kibana.SpaceIDs[0] != "gitlab-audit":
			t.Errorf("%s: spaces %v, want the token's", c.file, got.Kibana.SpaceIDs)
		case got.Gitlab.EntityPath != c.path || string(gd) != string(details):
			t.Errorf("%s: gitlab %+v, details %s want %s", c.file, got.Gitlab, gd, details)
		case orig["event_type"] != "repository_git_operation":
			t.Errorf("%s: original %v", c.file, orig)
		}
	}
	e.wantCount(2)
	if got := e.db.ProviderActions()["gitlab"]; len(got) != 1 || got[0] != "repository_git_operation" {
		t.Fatalf("gitlab registered with %v", got)
	}
}

// TestGitLabRefusals: a wrong or missing token is a 401, a receiver
// without tokens answers 403, a body that is not GitLab's JSON 400, and
// none stores anything.
func TestGitLabRefusals(t *testing.T) {
	body, err := os.ReadFile("testdata/gitlab/git-ssh-fetch.json")
	if err != nil {
		t.Fatal(err)
	}
	off := newEnv(t, Config{})
	off.gitlabPost("anything", body).wantError(t, http.StatusForbidden, typeForbidden)
	e := newEnv(t, Config{GitLab: GitLabConfig{Tokens: []GitLabToken{{Token: "right-token-0123456"}}}})
	e.gitlabPost("wrong-token-0123456", body).wantError(t, http.StatusUnauthorized, typeUnauthenticated)
	e.gitlabPost("", body).wantError(t, http.StatusUnauthorized, typeUnauthenticated)
	e.gitlabPost("right-token-0123456", []byte(`{"id":1,"author_id":[1]}`)).wantError(t, http.StatusBadRequest, typeInvalidEvent)
	e.gitlabPost("right-token-0123456", []byte(`not json`)).wantError(t, http.StatusBadRequest, typeInvalidEvent)
	e.gitlabPost("right-token-0123456", []byte(`{"id":2,"created_at":"yesterday"}`)).wantError(t, http.StatusBadRequest, typeInvalidEvent)
	e.wantCount(0)
	off.wantCount(0)
}
