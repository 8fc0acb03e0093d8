package privacy

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Notice answers, from a store's live configuration, the four questions
// the people an audit log records may ask: what is collected, whether it
// can be tied back to them, who may read it and how long it is kept. The
// engine fills Collected, Pseudonymised and Retention (eventlog.DB.Notice);
// the server fills Access. GET /api/_privacy and eventlog notice show it.
type Notice struct {
	// Collected are the fields an event may carry (the schema), each
	// with whether it is stored as a pseudonym.
	Collected []CollectedField `json:"collected"`
	// Pseudonymised names the fields stored as pseudonyms; empty when no
	// key is configured.
	Pseudonymised []string `json:"pseudonymised"`
	// NotCovered are free-text fields, and the fields kept outside the
	// schema, that pseudonymisation cannot cover:
	// a name written inside them is stored as written.
	NotCovered []string `json:"not_covered"`
	// Reidentification says what the key allows.
	Reidentification string `json:"reidentification"`
	// Access says who may read.
	Access Access `json:"access"`
	// Retention says how long events are kept.
	Retention Retention `json:"retention"`
}

// CollectedField is one field of the schema.
type CollectedField struct {
	Name          string `json:"name"`
	Pseudonymised bool   `json:"pseudonymised,omitempty"`
}

// Access is who may read the events.
type Access struct {
	// Authentication is whether every request needs an API key.
	Authentication bool `json:"authentication"`
	// MutualTLS is whether a client certificate is required too.
	MutualTLS bool `json:"mutual_tls"`
	// Readers says in words who may read.
	Readers string `json:"readers"`
	// Keys are the API keys that may read, when keys are in use.
	Keys []KeyAccess `json:"keys,omitempty"`
}

// KeyAccess is what one API key may read.
type KeyAccess struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Spaces []string `json:"spaces,omitempty"` // empty: every space
}

// Retention is how long events are kept. An age is a duration in the
// form the settings take (30d, 36h) or "forever".
type Retention struct {
	MaxAge   string            `json:"max_age"`
	Spaces   map[string]string `json:"spaces,omitempty"`
	Rules    []RetentionRule   `json:"rules,omitempty"`
	MaxBytes int64             `json:"max_bytes,omitempty"` // 0: no bound
	// Rule says how the ages combine.
	Rule string `json:"rule"`
	// Copies says how long copies outside the store (an object-store
	// bucket) keep what the store erased or expired; empty: none.
	Copies string `json:"copies,omitempty"`
}

// RetentionRule is a retention rule: the events its filter matches are
// kept MaxAge.
type RetentionRule struct {
	Filter string `json:"filter"`
	MaxAge string `json:"max_age"`
}

// ReadersWithoutAuth is Access.Readers of a server without
// authentication.
const ReadersWithoutAuth = "anyone who can reach the server: authentication is off"

// ReadersWithKeys is Access.Readers of a server that requires API keys.
const ReadersWithKeys = "holders of the active API keys listed, each within its role and spaces"

// NotCovered are the fields pseudonymisation cannot cover: free text, and
// the fields kept outside the schema (event.ExtraFieldName), stored as
// sent.
var NotCovered = []string{"message", "error.message", event.ExtraFieldName}

// Reidentification is what Notice.Reidentification says with and without a
// key.
const (
	reidentifyWithKey = "pseudonyms are HMAC-SHA256 under a key kept outside the data directory: they cannot be inverted; " +
		"an administrator holding the key can only confirm a candidate value (eventlog pseudonym reveal); destroying the key makes them permanently anonymous"
	reidentifyOff = "no field is pseudonymised: values are stored as sent"
)

// NewNotice returns the collection, pseudonymisation and retention parts
// of a notice for the schema fields, p (nil: off) and r.
func NewNotice(fields []string, p *Pseudonymizer, r Retention) Notice {
	n := Notice{Pseudonymised: p.Fields(), NotCovered: NotCovered, Retention: r, Reidentification: reidentifyOff}
	if n.Pseudonymised == nil {
		n.Pseudonymised = []string{}
	} else {
		n.Reidentification = reidentifyWithKey
	}
	for _, f := range fields {
		n.Collected = append(n.Collected, CollectedField{Name: f, Pseudonymised: p.Covers(f)})
	}
	return n
}

// Age is the notice's form of a max age: days when whole (30d), else
// Go's form (36h0m0s), "forever" for 0.
func Age(d time.Duration) string {
	switch {
	case d == 0:
		return "forever"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// WriteText writes the notice for people.
func (n Notice) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("What is collected\n")
	names := make([]string, len(n.Collected))
	for i, f := range n.Collected {
		names[i] = f.Name
	}
	fmt.Fprintf(&b, "  events of the Kibana event log schema: %d fields: %s\n", len(names), strings.Join(names, ", "))
	b.WriteString("\nWhether it can be tied back to a person\n")
	if len(n.Pseudonymised) == 0 {
		fmt.Fprintf(&b, "  pseudonymised: none\n")
	} else {
		fmt.Fprintf(&b, "  pseudonymised: %s\n", strings.Join(n.Pseudonymised, ", "))
	}
	fmt.Fprintf(&b, "  not covered (free text, fields kept outside the schema): %s\n  %s\n", strings.Join(n.NotCovered, ", "), n.Reidentification)
	b.WriteString("\nWho may read it\n")
	fmt.Fprintf(&b, "  authentication: %s; mutual TLS: %s\n  %s\n", onOff(n.Access.Authentication), onOff(n.Access.MutualTLS), n.Access.Readers)
	for _, k := range n.Access.Keys {
		spaces := "every space"
		if len(k.Spaces) > 0 {
			spaces = "spaces " + strings.Join(k.Spaces, ", ")
		}
		fmt.Fprintf(&b, "  key %s: %s, %s\n", k.Name, k.Role, spaces)
	}
	b.WriteString("\nHow long it is kept\n")
	fmt.Fprintf(&b, "  by default: %s\n", n.Retention.MaxAge)
	spaces := make([]string, 0, len(n.Retention.Spaces))
	for s := range n.Retention.Spaces {
		spaces = append(spaces, s)
	}
	sort.Strings(spaces)
	for _, s := range spaces {
		fmt.Fprintf(&b, "  space %s: %s\n", s, n.Retention.Spaces[s])
	}
	for _, r := range n.Retention.Rules {
		fmt.Fprintf(&b, "  events matching %s: %s\n", r.Filter, r.MaxAge)
	}
	if n.Retention.MaxBytes > 0 {
		fmt.Fprintf(&b, "  at most %d bytes on disk: the oldest are dropped first\n", n.Retention.MaxBytes)
	}
	fmt.Fprintf(&b, "  %s\n", n.Retention.Rule)
	if n.Retention.Copies != "" {
		fmt.Fprintf(&b, "  copies: %s\n", n.Retention.Copies)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
