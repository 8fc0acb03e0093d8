package eventlog

import (
	"strconv"

	"github.com/eventlogdb/eventlog/event"
)

// AppendDocument appends the JSON document the HTTP API and destinations
// send for a stored event: the event as ingested (event.AppendJSON: the
// same fields, the same @timestamp text) with "_id" (IDOf) and "_seq" as
// its first two members.
func AppendDocument(dst []byte, seq uint64, ev *event.Event) []byte {
	dst = append(dst, `{"_id":"`...)
	dst = appendID(dst, seq)
	dst = append(dst, `","_seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	start := len(dst)
	dst = event.AppendJSON(dst, ev)
	if len(dst)-start <= 2 { // "{}": no members to add
		return append(dst[:start], '}')
	}
	dst[start] = ','
	return dst
}

// appendID appends the 16 lower-case hex digits of seq.
func appendID(dst []byte, seq uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[seq>>uint(shift)&0xf])
	}
	return dst
}
