package main

import (
	"strconv"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// appendHit appends the JSON object find, query and export print for one
// matching event, {"_id":ID,"_seq":SEQ,"event":{...}}, without a newline.
// The event is in its canonical JSON (event.AppendJSON), values as they
// were ingested.
func appendHit(dst []byte, seq uint64, ev *event.Event) []byte {
	dst = append(dst, `{"_id":"`...)
	dst = append(dst, eventlog.IDOf(seq)...)
	dst = append(dst, `","_seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"event":`...)
	dst = event.AppendJSON(dst, ev)
	return append(dst, '}')
}
