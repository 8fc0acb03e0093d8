package eventlog

import (
	"strconv"

	"github.com/eventlogdb/eventlog/event"
)

// AppendDocument appends the JSON document every CLI command, HTTP route
// and destination prints for a stored event: the event as ingested
// (event.AppendJSON: the same fields, the same @timestamp text) with the
// engine fields first — "_id" (the client id when the event has one, else
// the engine id IDOf(seq)), "_seq", and "_index" when set. event.Decode
// accepts the document back ("_seq" ignored), so an export re-imports.
func AppendDocument(dst []byte, seq uint64, ev *event.Event) []byte {
	dst = append(dst, `{"_id":`...)
	if ev.ClientID != "" {
		dst = event.AppendJSONString(dst, ev.ClientID)
	} else {
		dst = append(dst, '"')
		dst = appendID(dst, seq)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"_seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	if ev.Index != "" {
		dst = append(dst, `,"_index":`...)
		dst = event.AppendJSONString(dst, ev.Index)
	}
	start := len(dst)
	dst = event.AppendBodyJSON(dst, ev)
	if len(dst)-start <= 2 { // "{}": no members to add
		return append(dst[:start], '}')
	}
	dst[start] = ','
	return dst
}

// DocumentID is the "_id" AppendDocument prints for the event with
// sequence number seq: its client id, else the engine id.
func DocumentID(seq uint64, ev *event.Event) string {
	if ev.ClientID != "" {
		return ev.ClientID
	}
	return IDOf(seq)
}

// appendID appends the 16 lower-case hex digits of seq.
func appendID(dst []byte, seq uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[seq>>uint(shift)&0xf])
	}
	return dst
}
