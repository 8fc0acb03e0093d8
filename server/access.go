package server

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/auth"
)

// Error types of access control.
const (
	typeUnauthenticated = "unauthenticated" // 401: no key, or not a valid one
	typeForbidden       = "forbidden"       // 403: a valid key that may not do this
	typeRateLimited     = "rate_limited"    // 429: the key's rate limit
)

// wwwAuthenticate is the challenge of a 401: the schemes a client may
// answer with.
const wwwAuthenticate = `ApiKey, Bearer, Basic realm="eventlog"`

// rule says who may call a route. Once the store holds a key, every route
// needs one unless its rule is public.
type rule struct {
	// public: no key needed (/healthz).
	public bool
	// need is the role the route needs (auth.Role.Allows).
	need auth.Role
	// storeWide: the answer covers the whole store (counts of every
	// event), so a key scoped to spaces may not call it.
	storeWide bool
	// metrics: /metrics, public when Config.MetricsPublic.
	metrics bool
	// audit, when set, is the action of the audit event each call
	// records (audit.go).
	audit string
}

// check reports a rule that allows nothing or is both public and not.
func (rl rule) check() error {
	switch {
	case rl.public && rl.need != 0:
		return errors.New("a public rule needs no role")
	case !rl.public && rl.need == 0:
		return errors.New("no access rule: every route needs a role, or public")
	}
	return nil
}

// authorize decides whether r may call rt, and returns the key it
// authenticated with (nil when the server does not authenticate, or the
// route is public). A refusal is a 401 (with WWW-Authenticate), 403 or
// 429 error to answer. It allocates nothing for an allowed request.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rt *route) (*auth.Key, error) {
	if s.keys == nil || !s.keys.HasKeys() || rt.rule.public || rt.rule.metrics && s.cfg.MetricsPublic {
		return nil, nil
	}
	now := time.Now()
	var c auth.Credentials
	err := auth.Parse(r.Header.Get("Authorization"), &c)
	var k *auth.Key
	if err == nil {
		k, err = s.keys.Authenticate(&c, now)
	}
	if err != nil {
		s.noteFailure(c.ID(), r.RemoteAddr, err, now)
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
		return nil, errorf(http.StatusUnauthorized, typeUnauthenticated, "%v", err)
	}
	if err := allowed(k, rt, r.PathValue("space")); err != nil {
		return nil, err
	}
	if ok, wait := s.rates.AllowRequest(k, now); !ok {
		return nil, s.rateLimited(w, k, "requests", wait)
	}
	return k, nil
}

// allowed checks k's role and scope against rt and the /s/{space} prefix.
func allowed(k *auth.Key, rt *route, space string) error {
	switch {
	case !k.Role.Allows(rt.rule.need):
		return errorf(http.StatusForbidden, typeForbidden, "%s needs the %s role; key %s has the %s role",
			rt.pattern, rt.rule.need, k.ID, k.Role)
	case rt.rule.storeWide && k.Scoped():
		return errorf(http.StatusForbidden, typeForbidden, "%s answers for the whole store; key %s is scoped to spaces %s",
			rt.pattern, k.ID, strings.Join(k.Spaces, ", "))
	case space != "" && !k.InScope(space):
		return errorf(http.StatusForbidden, typeForbidden, "space %q is outside the scope of key %s (spaces %s)",
			space, k.ID, strings.Join(k.Spaces, ", "))
	}
	return nil
}

// rateLimited counts a refusal of k's limit kind and answers 429 with
// Retry-After in whole seconds (at least 1).
func (s *Server) rateLimited(w http.ResponseWriter, k *auth.Key, kind string, wait time.Duration) error {
	s.metrics.auth.rateLimited.WithLabelValues(k.ID, kind).Inc()
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return errorf(http.StatusTooManyRequests, typeRateLimited, "key %s is over its rate limit of %s; retry in %d s", k.ID, kind, secs)
}

// chargeBytes takes n ingested bytes from the rate limit of the request's
// key (429 when over it).
func (s *Server) chargeBytes(w http.ResponseWriter, n int) error {
	k := keyOf(w)
	if k == nil {
		return nil
	}
	if ok, wait := s.rates.AllowBytes(k, time.Now(), n); !ok {
		return s.rateLimited(w, k, "bytes", wait)
	}
	return nil
}

// keyOf is the key the request answered by w authenticated with; nil when
// the server does not authenticate.
func keyOf(w http.ResponseWriter) *auth.Key {
	if rec, ok := w.(*recorder); ok {
		return rec.key
	}
	return nil
}

// remoteHost is the address part of a RemoteAddr.
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
