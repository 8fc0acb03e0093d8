package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// This file is the native API's side of idempotent ingest: the answer for
// each stored, duplicate or conflicting event (see eventlog.AppendResult).

// Results of an ingested event in the native API's answers.
const (
	resultCreated = "created" // stored by this request
	resultNoop    = "noop"    // the same event was already stored
)

// appendItemResult appends the members "_id" (the client id when given,
// else the engine id), "_seq" and "result" of an event the request stored
// or found already stored.
func appendItemResult(dst []byte, ev *event.Event, seq uint64, r eventlog.AppendResult) []byte {
	if ev.ClientID == "" {
		dst = appendIDSeq(dst, seq)
	} else {
		dst = append(dst, `"_id":`...)
		dst = appendString(dst, ev.ClientID)
		dst = append(dst, `,"_seq":`...)
		dst = strconv.AppendUint(dst, seq, 10)
	}
	dst = append(dst, `,"result":"`...)
	if r == eventlog.Duplicate {
		dst = append(dst, resultNoop...)
	} else {
		dst = append(dst, resultCreated...)
	}
	return append(dst, '"')
}

// resultOf is the result of the i-th event of an Append's answer.
func resultOf(res eventlog.Appended, i int) eventlog.AppendResult {
	if res.Items == nil {
		return eventlog.Created
	}
	return res.Items[i].Result
}

// conflictError (typeConflict, 409: never a silent no-op over different
// data) is the item error of an event whose client id is stored
// with different content, under sequence number seq.
func conflictError(index int, ev *event.Event, seq uint64) itemError {
	return itemError{index: index, status: http.StatusConflict, typ: typeConflict,
		reason: fmt.Sprintf("_id %q: an event with this client id and different content is already stored (_seq %d); not stored", ev.ClientID, seq)}
}

// conflicts returns the item errors of the events Append found in
// conflict, nil when none is.
func conflicts(res eventlog.Appended, events []event.Event) []itemError {
	var bad []itemError
	for i, it := range res.Items {
		if it.Result == eventlog.Conflict {
			bad = append(bad, conflictError(i, &events[i], it.Seq))
		}
	}
	return bad
}

// storedCount is how many events an Append stored.
func storedCount(res eventlog.Appended) int {
	if res.Items == nil {
		return res.Count
	}
	n := 0
	for _, it := range res.Items {
		if it.Result == eventlog.Created {
			n++
		}
	}
	return n
}
