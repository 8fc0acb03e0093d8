package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// Answers are built append-style into pooled buffers and written in one
// call: events go out through event.AppendJSON, never through maps.

// maxPooledBuf is the largest buffer kept for reuse.
const maxPooledBuf = 64 << 20

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 16<<10)
	return &b
}}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// writeJSON writes a complete JSON answer.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone away is no error of ours
}

// writeValue writes v, marshalled by encoding/json, as the answer. For the
// small documents of the registry, stats and health routes.
func writeValue(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(w, status, body)
	return nil
}

// appendError appends the JSON of an error answer.
func appendError(dst []byte, e *apiError) []byte {
	dst = append(dst, `{"status":`...)
	dst = strconv.AppendInt(dst, int64(e.status), 10)
	dst = append(dst, `,"error":`...)
	dst = appendErrorObject(dst, e.typ, e.reason)
	if len(e.items) > 0 {
		dst = append(dst, `,"items":[`...)
		for i, it := range e.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"index":`...)
			dst = strconv.AppendInt(dst, int64(it.index), 10)
			dst = append(dst, `,"status":`...)
			dst = strconv.AppendInt(dst, int64(it.status), 10)
			dst = append(dst, `,"error":`...)
			dst = appendErrorObject(dst, it.typ, it.reason)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if e.outcome != "" {
		dst = append(dst, `,"outcome":`...)
		dst = appendString(dst, e.outcome)
	}
	return append(dst, '}')
}

// appendErrorObject appends {"type":typ,"reason":reason}.
func appendErrorObject(dst []byte, typ, reason string) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, reason)
	return append(dst, '}')
}

// appendID appends the quoted id of seq, as eventlog.IDOf writes it: 16
// lower-case hex digits.
func appendID(dst []byte, seq uint64) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, '"')
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[seq>>uint(shift)&0xf])
	}
	return append(dst, '"')
}

// appendIDSeq appends the members "_id":...,"_seq":... of seq.
func appendIDSeq(dst []byte, seq uint64) []byte {
	dst = append(dst, `"_id":`...)
	dst = appendID(dst, seq)
	dst = append(dst, `,"_seq":`...)
	return strconv.AppendUint(dst, seq, 10)
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // never fails for a string
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
