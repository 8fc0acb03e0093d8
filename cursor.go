package eventlog

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/eventlogdb/eventlog/internal/match"
)

// cursorVersion is the first byte of every cursor, so the format can change
// without old cursors being misread.
const cursorVersion = 1

// encodeCursor makes the opaque cursor for a position: version, order, the
// @timestamp and the sequence number of the last event returned — sort
// values, never a segment or row, which compaction changes.
func encodeCursor(p match.Position, desc bool) string {
	b := []byte{cursorVersion, 0}
	if desc {
		b[1] = 1
	}
	b = binary.AppendVarint(b, p.TS)
	b = binary.AppendUvarint(b, p.Seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, order Order) (match.Position, error) {
	bad := func(why string) (match.Position, error) {
		return match.Position{}, fmt.Errorf("%w: cursor %q: %s", ErrInvalidRequest, s, why)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 4 {
		return bad("not a cursor")
	}
	if b[0] != cursorVersion {
		return bad(fmt.Sprintf("unknown version %d", b[0]))
	}
	if (b[1] == 1) != (order == Descending) || b[1] > 1 {
		return bad("it was made for the other sort order")
	}
	ts, n := binary.Varint(b[2:])
	if n <= 0 {
		return bad("not a cursor")
	}
	seq, m := binary.Uvarint(b[2+n:])
	if m <= 0 || 2+n+m != len(b) {
		return bad("not a cursor")
	}
	pos := match.Position{TS: ts, Seq: seq}
	// Only the canonical form is a cursor: this rejects padding bits and
	// overlong varints, so every position has exactly one cursor.
	if encodeCursor(pos, order == Descending) != s {
		return bad("not a cursor")
	}
	return pos, nil
}
