package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// Documents from outside tools (shippers on /es, GitLab's audit stream)
// carry no provider/action pair the store knows. Each such route has an
// IngestRoute saying what a document without one gets, and whether a pair
// the registry lacks is registered on first sight or rejected.

// ProviderPolicy says what an outside-tool route does with an event whose
// provider/action pair is not registered.
type ProviderPolicy uint8

const (
	// ProvidersRegister (the zero value) registers the pair, then stores
	// the event: the pair shows in GET /api/providers from then on.
	ProvidersRegister ProviderPolicy = iota
	// ProvidersStrict rejects the event (400, as the native API does):
	// pairs are registered beforehand with PUT /api/providers/{provider}.
	ProvidersStrict
)

var providerPolicyNames = [...]string{ProvidersRegister: "register", ProvidersStrict: "strict"}

// String returns the policy's name, as ParseProviderPolicy takes it.
func (p ProviderPolicy) String() string {
	if int(p) < len(providerPolicyNames) {
		return providerPolicyNames[p]
	}
	return fmt.Sprintf("ProviderPolicy(%d)", p)
}

// ParseProviderPolicy parses "register" or "strict".
func ParseProviderPolicy(s string) (ProviderPolicy, error) {
	for p, name := range providerPolicyNames {
		if s == name {
			return ProviderPolicy(p), nil
		}
	}
	return 0, fmt.Errorf("provider policy %q: want %s", s, strings.Join(providerPolicyNames[:], " or "))
}

// defaultAction is the event.action of a document that has none, unless
// the route sets another.
const defaultAction = "log"

// IngestRoute configures an outside-tool ingest route. The zero value:
// provider from the route (the index name on /es, "gitlab" for GitLab),
// action "log", unregistered pairs registered.
type IngestRoute struct {
	// DefaultProvider is the event.provider of a document that has none.
	// Empty: the index name on /es (the _index of the action, or of the
	// path); "gitlab" on the GitLab receiver.
	DefaultProvider string
	// DefaultAction is the event.action of a document that has none.
	// Empty: "log". (GitLab's events always have one: their event_type.)
	DefaultAction string
	// Providers says what happens to an unregistered provider/action pair.
	Providers ProviderPolicy
}

// complete gives ev the route's provider (else fallback) and action where
// it has none.
func (c *IngestRoute) complete(ev *event.Event, fallback string) {
	if ev.Event.Provider == "" {
		ev.Event.Provider = cmpOr(c.DefaultProvider, fallback)
	}
	if ev.Event.Action == "" {
		ev.Event.Action = cmpOr(c.DefaultAction, defaultAction)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// describe is the route's settings as GET /api/providers shows them.
func (c *IngestRoute) describe(provider string) map[string]string {
	return map[string]string{
		"default_provider":    cmpOr(c.DefaultProvider, provider),
		"default_action":      cmpOr(c.DefaultAction, defaultAction),
		"unregistered_policy": c.Providers.String(),
	}
}

// registerRejected registers the provider/action pairs of the events the
// DB rejected only for being unregistered, and returns the rejections
// that remain (other errors, and pairs whose registration failed, with
// that error).
func (s *Server) registerRejected(events []event.Event, rejected []eventlog.ItemError) []eventlog.ItemError {
	var rest []eventlog.ItemError
	for _, it := range rejected {
		if !errors.Is(it.Err, eventlog.ErrUnregistered) {
			rest = append(rest, it)
			continue
		}
		ev := &events[it.Index]
		if ev.Event.Provider == "" || ev.Event.Action == "" {
			rest = append(rest, it)
			continue
		}
		if err := s.db.RegisterProviderActions(ev.Event.Provider, ev.Event.Action); err != nil {
			rest = append(rest, eventlog.ItemError{Index: it.Index, Err: fmt.Errorf("registering provider %q action %q: %w", ev.Event.Provider, ev.Event.Action, err)})
		}
	}
	return rest
}
