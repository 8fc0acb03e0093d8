package auth

import (
	"fmt"
	"strings"
)

// Role is what a key may do. The zero Role is no role: it allows nothing.
type Role uint8

// The roles. Reader < Writer < Admin, each including the one before;
// Auditor is a Reader who also sees the store's own audit events.
const (
	Reader Role = iota + 1
	Writer
	Admin
	Auditor
)

var roleNames = [...]string{Reader: "reader", Writer: "writer", Admin: "admin", Auditor: "auditor"}

// Roles lists every role, for usage texts and tests.
func Roles() []Role { return []Role{Reader, Writer, Admin, Auditor} }

// String is the role's name: reader, writer, admin or auditor.
func (r Role) String() string {
	if r == 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", uint8(r))
	}
	return roleNames[r]
}

// ParseRole parses a role's name, in any case.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if strings.EqualFold(s, r.String()) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("role %q: want reader, writer, admin or auditor", s)
}

// MarshalText writes the role's name (keys.json, the API).
func (r Role) MarshalText() ([]byte, error) {
	if r == 0 || int(r) >= len(roleNames) {
		return nil, fmt.Errorf("no such role %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Allows reports whether a key of role r may do what needs role need:
// Admin allows everything; Writer allows Writer and Reader; Reader and
// Auditor allow Reader. Auditor as a need (the store's own events) is
// allowed to Admin and Auditor.
func (r Role) Allows(need Role) bool {
	switch need {
	case Reader:
		return r >= Reader && r <= Auditor
	case Writer:
		return r == Writer || r == Admin
	case Admin:
		return r == Admin
	case Auditor:
		return r == Admin || r == Auditor
	}
	return false
}

// SeesAudit reports whether r may read the store's own audit events
// (provider "eventlog"): Admin and Auditor.
func (r Role) SeesAudit() bool { return r.Allows(Auditor) }
