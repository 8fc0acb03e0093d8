package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/privacy"
)

// ActionPseudonymReveal is the action of the audit event of a
// re-identification (also recorded by eventlog pseudonym reveal on a
// stopped store).
const ActionPseudonymReveal = "pseudonym-reveal"

// RevealRequest is the body of POST /api/_privacy/_reveal: which
// candidates to check against a pseudonym found in field.
type RevealRequest struct {
	Field      string   `json:"field"`
	Pseudonym  string   `json:"pseudonym"`
	Candidates []string `json:"candidates"`
}

// RevealAnswer says which candidate, if any, the pseudonym stands for.
type RevealAnswer struct {
	Field     string `json:"field"`
	Pseudonym string `json:"pseudonym"`
	Matched   bool   `json:"matched"`
	Match     string `json:"match,omitempty"`
}

// Reveal checks req with p, as the server and eventlog pseudonym reveal
// do.
func Reveal(p *privacy.Pseudonymizer, req RevealRequest) (RevealAnswer, error) {
	match, ok, err := p.RevealAny(req.Field, req.Pseudonym, req.Candidates)
	return RevealAnswer{Field: req.Field, Pseudonym: req.Pseudonym, Matched: ok, Match: match}, err
}

// RevealEvent is the audit event of a re-identification by key by (nil:
// none) from addr. It names the field, the pseudonym and how many
// candidates were tried, and whether one matched — never the candidates,
// which would put the person back in the clear in the log.
func RevealEvent(now time.Time, by *auth.Key, addr string, req RevealRequest, matched bool, err error) eventlog.Event {
	outcome, result := "success", "no candidate matched"
	switch {
	case err != nil:
		outcome, result = "failure", "refused"
	case matched:
		result = "a candidate matched"
	}
	ev := auditEvent(now, ActionPseudonymReveal, outcome, by, addr,
		fmt.Sprintf("re-identification of %s in %s: %d candidates, %s", req.Pseudonym, req.Field, len(req.Candidates), result))
	ev.Labels = map[string]string{"field": req.Field, "pseudonym": req.Pseudonym,
		"candidates": strconv.Itoa(len(req.Candidates)), "matched": strconv.FormatBool(matched)}
	return ev
}

// handleReveal answers POST /api/_privacy/_reveal (admin): the only
// re-identification the store offers, recorded as an audit event whatever
// its result.
func (s *Server) handleReveal(w http.ResponseWriter, r *http.Request) error {
	var req RevealRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	p := s.db.Pseudonymizer()
	if p == nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "this server pseudonymises nothing (no --pseudonym-key-file): there is nothing to reveal")
	}
	ans, err := Reveal(p, req)
	s.record(r.Context(), RevealEvent(time.Now(), keyOf(w), r.RemoteAddr, req, ans.Matched, err))
	if err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%v", err)
	}
	return writeValue(w, http.StatusOK, ans)
}
