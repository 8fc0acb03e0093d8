package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// eventLimits are the limits events from a server are decoded with: the
// server has checked them against its own.
var eventLimits = event.Limits{MaxDocumentBytes: 1 << 30, MaxStringBytes: 1 << 30, MaxRefs: 1 << 30, MaxTags: 1 << 30, MaxLabels: 1 << 30}

// decodeHit decodes an event of an answer, the document with its engine
// fields first: {"_id":ID,"_seq":SEQ,...document...}. An error answer's
// object in its place (a stream ended by a failure) is returned as its
// *APIError.
func decodeHit(raw []byte) (query.Hit, error) {
	var h query.Hit
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h, fmt.Errorf("answer holds %.40q where an event should be", raw)
	}
	var id string
	for _, key := range []string{"_id", "_seq"} {
		t, err := dec.Token()
		if err != nil || t != key {
			return h, notAnEvent(raw)
		}
		if key == "_id" {
			err = dec.Decode(&id)
		} else {
			err = dec.Decode(&h.Seq)
		}
		if err != nil {
			return h, fmt.Errorf("event's %s: %w", key, err)
		}
	}
	if want := fmt.Sprintf("%016x", h.Seq); id != want {
		return h, fmt.Errorf("event _id %q does not match _seq %d", id, h.Seq)
	}
	rest := bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")
	doc := append([]byte{'{'}, bytes.TrimPrefix(rest, []byte(","))...)
	ev, err := event.Decode(doc, eventLimits)
	if err != nil {
		return h, fmt.Errorf("event %d: %w", h.Seq, err)
	}
	h.Event = ev
	return h, nil
}

// notAnEvent is the error for an answer's object that should have been an
// event: the server's error when it is one.
func notAnEvent(raw []byte) error {
	if e := apiError(raw, 0); e != nil {
		return e
	}
	return fmt.Errorf("answer holds %.60q where an event with _id and _seq first should be", raw)
}

// lines reads an NDJSON stream a line at a time, holding one line.
type lines struct{ sc *bufio.Scanner }

func newLines(r io.Reader) *lines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<30)
	return &lines{sc: sc}
}

// next returns the next line, valid until the next call, or io.EOF.
func (l *lines) next() ([]byte, error) {
	if l.sc.Scan() {
		return l.sc.Bytes(), nil
	}
	if err := l.sc.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// isBlank reports whether line holds only white space.
func isBlank(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }
