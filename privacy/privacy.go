// Package privacy pseudonymises the fields of an event that identify a
// person, and the conditions of filters on them, with one secret key.
//
// A pseudonym is "pseu:v1:" followed by HMAC-SHA256(key, value) in
// unpadded lower-case base32 (52 characters): stable — the same value
// gives the same pseudonym, so equality filters, counts and terms
// aggregations work as before — and readable in an answer. The value is
// hashed as written, except in IP fields, where the address is first put
// in its canonical form (netip.Addr.String), so ::1 and 0:0:0:0:0:0:0:1
// give one pseudonym, as they are one address to the filter language. The
// field's name is not hashed in: one value gives one pseudonym in every
// pseudonymised field, so user.id and user.name, or source.ip and
// client.ip, can still be joined.
//
// HMAC cannot be inverted. Holding the key, one can only confirm a
// candidate: compute its pseudonym and compare (Reveal). Without the key
// even that is out of reach, so destroying the key makes every stored
// pseudonym permanently anonymous. The key never enters the data
// directory, a log line or an answer.
//
// Filters: a Match on a pseudonymised field has its value replaced by the
// value's pseudonym (a value that is already a pseudonym is kept);
// prefixes, wildcards and CIDR ranges on such a field are refused, since
// pseudonyms keep no order or structure. Exists conditions are kept.
// The text fields message and error.message cannot be pseudonymised:
// what identifies a person inside free text is not a field. Nor are kept
// unknown fields (event.Extra): event.DecodeWith never keeps a key that
// names a schema field, so a pseudonymised field's value is typed (and
// pseudonymised) or refused, never kept in the clear beside it.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"slices"
	"sync"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/keyfile"
)

// DefaultFields are the fields pseudonymised when a key is given and no
// list: those of the event schema that name or locate a person.
var DefaultFields = []string{"user.name", "user.email", "user.id", "source.ip", "client.ip"}

// MinKeyBytes is the shortest key accepted: 256 bits, HMAC-SHA256's
// strength.
const MinKeyBytes = 32

// Pseudonymizer replaces the values of its fields with their pseudonyms.
// It is immutable and safe for concurrent use. A nil *Pseudonymizer
// pseudonymises nothing.
type Pseudonymizer struct {
	key    []byte // nil: Keyless
	fields []*event.Field
	byName map[string]bool
	// macs holds keyed HMACs: keying one (two SHA-256 blocks) costs more
	// than the short values it then hashes.
	macs sync.Pool
}

// New returns a Pseudonymizer of fields (nil: DefaultFields) under key,
// or an error naming a field that cannot be pseudonymised or a key that
// is too short.
func New(key []byte, fields []string) (*Pseudonymizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("privacy: pseudonym key of %d bytes: want at least %d (openssl rand -base64 32)", len(key), MinKeyBytes)
	}
	return newPseudonymizer(slices.Clone(key), fields)
}

// Keyless returns a Pseudonymizer of fields without the key: for a store
// whose fields are pseudonymised, opened without its key. It cannot make
// pseudonyms, so it refuses what would need one — an event with a clear
// value in one of the fields (Check: ErrNoKey), an equality on one with a
// clear value (Filter) — instead of storing names or silently finding
// nothing. Values that are pseudonyms already pass.
func Keyless(fields []string) (*Pseudonymizer, error) {
	return newPseudonymizer(nil, fields)
}

// ErrNoKey refuses what needs the pseudonym key of a Keyless
// Pseudonymizer.
var ErrNoKey = errors.New("this store pseudonymises the field: give it its pseudonym key")

func newPseudonymizer(key []byte, fields []string) (*Pseudonymizer, error) {
	if fields == nil {
		fields = DefaultFields
	}
	p := &Pseudonymizer{key: key, byName: map[string]bool{}}
	p.macs.New = func() any { return hmac.New(sha256.New, p.key) }
	for _, name := range fields {
		f := event.FieldByName(name)
		switch {
		case f == nil:
			return nil, fmt.Errorf("privacy: pseudonymised field %q: no such field", name)
		case name == "message" || name == "error.message":
			return nil, fmt.Errorf("privacy: pseudonymised field %q: free text cannot be pseudonymised as a whole", name)
		case f.Kind != event.KindString && f.Kind != event.KindIP:
			return nil, fmt.Errorf("privacy: pseudonymised field %q: only keyword and IP fields can be", name)
		case p.byName[name]:
			continue
		}
		p.fields = append(p.fields, f)
		p.byName[name] = true
	}
	return p, nil
}

// LoadKey reads the pseudonym key from file, which must lie outside
// dataDir (see package internal/keyfile).
func LoadKey(file, dataDir string) ([]byte, error) {
	k, err := keyfile.Read("pseudonym key", file, dataDir)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	return k, nil
}

// Fields returns the names of the pseudonymised fields, in the order
// given.
func (p *Pseudonymizer) Fields() []string {
	if p == nil {
		return nil
	}
	names := make([]string, len(p.fields))
	for i, f := range p.fields {
		names[i] = f.Name
	}
	return names
}

// Covers reports whether the field name is pseudonymised.
func (p *Pseudonymizer) Covers(name string) bool { return p != nil && p.byName[name] }

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Pseudonym returns the pseudonym of value in field f's kind.
func (p *Pseudonymizer) pseudonym(f *event.Field, value string) string {
	if f.Kind == event.KindIP {
		if a, err := netip.ParseAddr(value); err == nil {
			value = a.String()
		}
	}
	return p.Value(value)
}

// Value returns the pseudonym of a keyword value: event.PseudonymPrefix
// and the base32 HMAC-SHA256 of value under the key.
func (p *Pseudonymizer) Value(value string) string {
	m := p.macs.Get().(hash.Hash)
	m.Reset()
	io.WriteString(m, value)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	p.macs.Put(m)
	var out [event.PseudonymLen]byte
	n := copy(out[:], event.PseudonymPrefix)
	encoding.Encode(out[n:], sum[:])
	return string(out[:])
}

// Reveal reports whether candidate is the value pseudonym stands for in
// field (an IP field compares addresses, as filters do). It is the only
// re-identification HMAC allows: confirming a guess, with the key.
func (p *Pseudonymizer) Reveal(field, candidate, pseudonym string) (bool, error) {
	if p == nil || p.key == nil {
		return false, ErrNoKey
	}
	f := event.FieldByName(field)
	if f == nil {
		return false, fmt.Errorf("privacy: no field %q", field)
	}
	if !event.IsPseudonym(pseudonym) {
		return false, fmt.Errorf("privacy: %q is not a pseudonym (%s followed by 52 base32 characters)", pseudonym, event.PseudonymPrefix)
	}
	return hmac.Equal([]byte(p.pseudonym(f, candidate)), []byte(pseudonym)), nil
}

// MaxRevealCandidates bounds the candidates of one RevealAny: re-
// identification is for confirming a few guesses, not for a dictionary
// attack through the server.
const MaxRevealCandidates = 100

// RevealAny returns the first of candidates that pseudonym stands for in
// field, and whether there is one (see Reveal).
func (p *Pseudonymizer) RevealAny(field, pseudonym string, candidates []string) (string, bool, error) {
	switch {
	case len(candidates) == 0:
		return "", false, errors.New("privacy: no candidate to check")
	case len(candidates) > MaxRevealCandidates:
		return "", false, fmt.Errorf("privacy: %d candidates: at most %d at once", len(candidates), MaxRevealCandidates)
	}
	for _, c := range candidates {
		ok, err := p.Reveal(field, c, pseudonym)
		if err != nil || ok {
			return c, ok, err
		}
	}
	return "", false, nil
}

// ErrOriginal refuses an event whose event.original may hold in the clear
// what its pseudonymised fields hide.
var ErrOriginal = errors.New("event.original is refused while fields are pseudonymised: it may hold them in the clear; leave it out or pseudonymise it before sending")

// Check returns ErrOriginal for an event with event.original, which
// Event cannot pseudonymise inside, and, Keyless, an error wrapping
// ErrNoKey naming a field with a clear value; nil otherwise.
func (p *Pseudonymizer) Check(ev *event.Event) error {
	if p == nil || len(p.fields) == 0 {
		return nil
	}
	if ev.Event.Original != "" {
		return ErrOriginal
	}
	if p.key == nil {
		for _, f := range p.fields {
			if v := *f.Str(ev); v != "" && !event.IsPseudonym(v) {
				return fmt.Errorf("%s: %w", f.Name, ErrNoKey)
			}
		}
	}
	return nil
}

// KeyCheck is a value that tells keys apart without revealing them: the
// pseudonym of a fixed text. A store records it to refuse a second key,
// whose pseudonyms would never match the first's. Keyless: "".
func (p *Pseudonymizer) KeyCheck() string {
	if p == nil || p.key == nil {
		return ""
	}
	return p.Value("eventlog pseudonym key check")
}

// Event returns ev with each pseudonymised field's value replaced by its
// pseudonym: a copy when any value changes, else ev itself, never
// modified. A value that is already a pseudonym is kept.
func (p *Pseudonymizer) Event(ev *event.Event) *event.Event {
	if p == nil || p.key == nil { // Keyless: Check refused clear values
		return ev
	}
	var out *event.Event
	for _, f := range p.fields {
		v := *f.Str(ev)
		if v == "" || event.IsPseudonym(v) {
			continue
		}
		if out == nil {
			cp := *ev
			out = &cp
		}
		*f.Str(out) = p.pseudonym(f, v)
	}
	if out == nil {
		return ev
	}
	return out
}
