package segment

import (
	"fmt"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// Kibana's events repeat the ids of the saved objects they refer to in
// other fields: the message ("alert executed: .index-threshold:73293223-
// 5060-…: 'cpu high'"), rule.id, kibana.task.id. Those ids are what does
// not compress, and the kibana.saved_objects column already holds them: on
// the realistic generator messages hold 36 bytes of ref ids an event on
// average, and storing them as references took the message column from
// 22.4 to 8.9 bytes an event. From
// VersionRefIDs on, every string column (event.KindString) stores each
// occurrence of one of the row's own ref ids as a two-byte reference to
// that ref, and readers put the id back from the row's refs (FORMAT.md,
// "Ref ids in string columns").
//
// The stored form: byte 0x00 starts an escape; 0x00 0x00 is a NUL of the
// value, 0x00 k (k ≥ 1) is the id of the row's ref k-1. Every other byte
// is the value's own. A value without a NUL and without a ref id is
// stored as it is.

// minRefIDLen is the shortest id replaced by a reference: shorter ones
// would save little and match by chance often.
const minRefIDLen = 8

// maxRefIDs is how many of a row's refs a value can refer to: k is one
// byte.
const maxRefIDs = 255

// rowRefIDs are the ids of one row's refs that a value may refer to, each
// with its reference byte k.
type rowRefIDs struct {
	ids []string
	ks  []byte
}

// reset prepares r for a row whose refs are refs.
func (r *rowRefIDs) reset(refs []event.SavedObject) {
	r.ids, r.ks = r.ids[:0], r.ks[:0]
	for k := range min(len(refs), maxRefIDs) {
		if id := refs[k].ID; referable(id) {
			r.ids = append(r.ids, id)
			r.ks = append(r.ks, byte(k+1))
		}
	}
}

// next returns where the first of the ids in s starts (the longest of
// those starting there, the first of equals), its reference byte and its
// length; at is -1 when s holds none.
func (r *rowRefIDs) next(s string) (at int, k byte, n int) {
	at = -1
	if len(s) < minRefIDLen {
		return at, 0, 0
	}
	for j, id := range r.ids {
		i := strings.Index(s, id)
		if i >= 0 && (at < 0 || i < at || (i == at && len(id) > n)) {
			at, k, n = i, r.ks[j], len(id)
		}
	}
	return at, k, n
}

// appendRefIDs appends the string value v in its stored form given its
// row's refs to dst. An id holds no NUL, so it never starts at one. The
// stored form is at most twice as long as v (a NUL becomes two bytes, an
// id of minRefIDLen or more bytes two).
func appendRefIDs(dst []byte, v string, refs *rowRefIDs) []byte {
	nul := strings.IndexByte(v, 0)
	at, k, n := refs.next(v)
	for {
		switch {
		case nul >= 0 && (at < 0 || nul < at):
			dst = append(append(dst, v[:nul]...), 0, 0)
			v = v[nul+1:]
		case at >= 0:
			dst = append(append(dst, v[:at]...), 0, k)
			v = v[at+n:]
		default:
			return append(dst, v...)
		}
		nul = strings.IndexByte(v, 0)
		at, k, n = refs.next(v)
	}
}

// referable reports whether id can be stored as a reference. An id holding
// a NUL cannot: the decoder would read its NUL as an escape.
func referable(id string) bool {
	return len(id) >= minRefIDLen && !strings.ContainsRune(id, 0)
}

// decodeRefIDs returns the value of the stored form s, whose row's refs
// are refs.
func decodeRefIDs(s string, refs []event.SavedObject) (string, error) {
	if strings.IndexByte(s, 0) < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + 36)
	if err := writeRefIDs(&b, s, refs); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeRefIDs writes the value of the stored form s, whose row's refs are
// refs, to b.
func writeRefIDs(b *strings.Builder, s string, refs []event.SavedObject) error {
	for i := strings.IndexByte(s, 0); i >= 0; i = strings.IndexByte(s, 0) {
		b.WriteString(s[:i])
		if i+1 == len(s) {
			return fmt.Errorf("%w: an escape byte ends the value", errInvalid)
		}
		k := int(s[i+1])
		switch {
		case k == 0:
			b.WriteByte(0)
		case k-1 < len(refs) && referable(refs[k-1].ID):
			b.WriteString(refs[k-1].ID)
		default:
			return fmt.Errorf("%w: reference to ref %d of a row with %d referable refs", errInvalid, k-1, len(refs))
		}
		s = s[i+2:]
	}
	b.WriteString(s)
	return nil
}

// expandColumnRefIDs puts the ref ids back into the values of field f (a
// no-op unless it is a string field) of evs, whose refs are decoded.
func expandColumnRefIDs(f *event.Field, evs []event.Event) error {
	if f.Kind != event.KindString {
		return nil
	}
	for i := range evs {
		v := f.Str(&evs[i])
		if strings.IndexByte(*v, 0) < 0 {
			continue
		}
		s, err := decodeRefIDs(*v, evs[i].Kibana.SavedObjects)
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		*v = s
	}
	return nil
}
