package auth

import (
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eventlogdb/eventlog/event"
)

// Key is an API key as the store describes it: never its secret.
type Key struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Spaces scopes the key to those Kibana spaces; empty: every space.
	Spaces []string `json:"spaces,omitempty"`
	// Created, Expires (zero: never), Revoked (zero: not revoked) and
	// LastUsed (zero: never; flushed to disk periodically) are UTC.
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Spec is what a new key is made of (Store.Create).
type Spec struct {
	Name   string
	Role   Role
	Spaces []string
	// TTL is how long the key is valid; zero: it does not expire.
	TTL time.Duration
}

// maxName bounds a key's name.
const maxName = 256

// validate checks a spec, naming the first problem.
func (s *Spec) validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: a key needs a name", ErrInvalid)
	case len(s.Name) > maxName || !utf8.ValidString(s.Name):
		return fmt.Errorf("%w: name: want at most %d bytes of UTF-8", ErrInvalid, maxName)
	case s.Role == 0 || s.Role > Auditor:
		return fmt.Errorf("%w: role: want reader, writer, admin or auditor", ErrInvalid)
	case s.TTL < 0:
		return fmt.Errorf("%w: expiry %v is negative", ErrInvalid, s.TTL)
	}
	for _, r := range s.Name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: name %q holds a control character", ErrInvalid, s.Name)
		}
	}
	for i, sp := range s.Spaces {
		if err := validSpace(sp); err != nil {
			return fmt.Errorf("%w: space %d: %w", ErrInvalid, i+1, err)
		}
	}
	return nil
}

// validSpace checks a Kibana space id: lower-case letters, digits, "_" and
// "-", as Kibana allows.
func validSpace(s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("%q: want 1 to %d characters", s, maxName)
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%q: a space id holds only a-z, 0-9, _ and -", s)
		}
	}
	return nil
}

// Active reports whether k may authenticate at now: not revoked, not
// expired.
func (k *Key) Active(now time.Time) bool {
	return k.Revoked.IsZero() && (k.Expires.IsZero() || now.Before(k.Expires))
}

// Scoped reports whether k is limited to some spaces.
func (k *Key) Scoped() bool { return len(k.Spaces) > 0 }

// InScope reports whether space is one of k's spaces (always, for an
// unscoped key).
func (k *Key) InScope(space string) bool {
	return !k.Scoped() || slices.Contains(k.Spaces, space)
}

// MayWrite reports whether k may store ev: every one of ev's spaces
// (event.Event.Spaces) is in its scope. It allocates nothing.
func (k *Key) MayWrite(ev *event.Event) bool {
	if !k.Scoped() {
		return true
	}
	for i := range ev.Kibana.SavedObjects {
		if !k.InScope(ev.Kibana.SavedObjects[i].Space()) {
			return false
		}
	}
	for _, s := range ev.Kibana.SpaceIDs.Values {
		if !k.InScope(s) {
			return false
		}
	}
	if len(ev.Kibana.SavedObjects) == 0 && len(ev.Kibana.SpaceIDs.Values) == 0 {
		return k.InScope(event.DefaultSpace)
	}
	return true
}

// MaySee reports whether k may read ev: one of ev's spaces is in its
// scope.
func (k *Key) MaySee(ev *event.Event) bool {
	if !k.Scoped() {
		return true
	}
	for _, s := range k.Spaces {
		if ev.InSpace(s) {
			return true
		}
	}
	return false
}

// Shown returns ev as k may see it: without the saved-object references
// in spaces outside k's scope, nor those spaces in kibana.space_ids. ev
// itself is not changed; when nothing is removed Shown returns ev.
func (k *Key) Shown(ev *event.Event) *event.Event {
	refs, ids := ev.Kibana.SavedObjects, ev.Kibana.SpaceIDs.Values
	keepRefs, keepIDs := 0, 0
	for i := range refs {
		if k.InScope(refs[i].Space()) {
			keepRefs++
		}
	}
	for _, s := range ids {
		if k.InScope(s) {
			keepIDs++
		}
	}
	if keepRefs == len(refs) && keepIDs == len(ids) {
		return ev
	}
	out := *ev
	out.Kibana.SavedObjects = nil
	for _, ref := range refs {
		if k.InScope(ref.Space()) {
			out.Kibana.SavedObjects = append(out.Kibana.SavedObjects, ref)
		}
	}
	out.Kibana.SpaceIDs.Values = nil
	for _, s := range ids {
		if k.InScope(s) {
			out.Kibana.SpaceIDs.Values = append(out.Kibana.SpaceIDs.Values, s)
		}
	}
	return &out
}
