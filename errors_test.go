package eventlog

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// TestOneCorruptionMarker: the corruption errors of every format match
// ErrCorrupt, wrapped as the engine wraps them, and keep their own marker
// and location; other I/O errors do not.
func TestOneCorruptionMarker(t *testing.T) {
	cases := map[string]struct {
		err error
		own error // the package's own marker, also matched
	}{
		"wal record":      {&wal.CorruptionError{File: "1.wal", Offset: 7, Reason: "crc"}, wal.ErrCorrupt},
		"segment block":   {&segment.CorruptionError{File: "1.seg", Section: segment.SectionBlock, Block: 2}, segment.ErrCorrupt},
		"postings":        {fmt.Errorf("term x: %w", index.ErrCorrupt), index.ErrCorrupt},
		"manifest":        {fmt.Errorf("%w: checksum", errManifest), errManifest},
		"range of a read": {&CorruptionError{}, ErrCorrupt},
	}
	for name, c := range cases {
		err := fmt.Errorf("eventlog: open: %w", c.err)
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, c.own) {
			t.Errorf("%s: %v matches ErrCorrupt %v, its own marker %v", name, err, errors.Is(err, ErrCorrupt), errors.Is(err, c.own))
		}
	}
	if errors.Is(fmt.Errorf("read: %w", errors.New("input/output error")), ErrCorrupt) {
		t.Error("a plain I/O error matches ErrCorrupt")
	}
}
