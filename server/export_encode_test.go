package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/query"
)

// TestExportEncodersMatchOne: an export encoded by several goroutines,
// in steps and rounds of every size, with a budget that may refuse their
// buffers, writes the bytes one goroutine writes, document after
// document: each line is its hit's document (eventlog.AppendDocument),
// in the hits' order; and the budget gets back all it charged.
func TestExportEncodersMatchOne(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		hits := genHits(rt)
		var want []byte
		for i := range hits {
			want = append(eventlog.AppendDocument(want, hits[i].Seq, &hits[i].Event), '\n')
		}
		// No room (1 byte), room for some encoders' buffers, no limit (0).
		limit := rapid.SampledFrom([]int64{1, 2 * exportFlushBytes, 0}).Draw(rt, "limit")
		budget := memory.New(limit)
		acct := budget.Account(eventlog.AccountQueries)
		rec := httptest.NewRecorder()
		ex := &exporter{w: rec, rc: http.NewResponseController(rec), timeout: time.Second, buf: getBuf(),
			enc: newEncoders(acct, rapid.IntRange(1, exportEncoders).Draw(rt, "workers"))}
		step := rapid.OneOf(rapid.IntRange(1, exportChunk+1), rapid.Just(eventlog.ExportPage)).Draw(rt, "step")
		for rest := hits; len(rest) > 0; {
			n := min(step, len(rest))
			if err := ex.page(rest[:n]); err != nil {
				rt.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := ex.flush(); err != nil {
			rt.Fatal(err)
		}
		ex.enc.close()
		putBuf(ex.buf)
		if got := rec.Body.Bytes(); !bytes.Equal(got, want) {
			rt.Fatalf("%d hits: %d bytes written, want %d", len(hits), len(got), len(want))
		}
		checkLines(rt, rec.Body.Bytes(), hits)
		if ex.events != len(hits) || acct.Used() != 0 {
			rt.Fatalf("%d events counted of %d; %d bytes still charged", ex.events, len(hits), acct.Used())
		}
	})
}

// genHits draws up to three rounds of hits with increasing sequence
// numbers and messages of every size, escapes included.
func genHits(rt *rapid.T) []query.Hit {
	n := rapid.OneOf(rapid.IntRange(0, 2*exportChunk+1), rapid.IntRange(exportEncoders*exportChunk, 3*exportEncoders*exportChunk+1)).Draw(rt, "n")
	msg := rapid.StringMatching(`[a-z"\\\n\t<>&é😀 ]{0,40}`)
	hits := make([]query.Hit, n)
	seq := uint64(0)
	for i := range hits {
		seq += uint64(rapid.IntRange(1, 3).Draw(rt, "gap"))
		hits[i].Seq = seq
		hits[i].Event.Timestamp, _ = event.ParseDate(tsAt(i))
		hits[i].Event.Message = msg.Draw(rt, "message")
		hits[i].Event.Event.Provider, hits[i].Event.Event.Action = "alerting", "execute"
	}
	return hits
}

// checkLines checks, through encoding/json, that out holds one document
// per hit, in order, with its sequence number and message.
func checkLines(rt *rapid.T, out []byte, hits []query.Hit) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	i := 0
	for ; sc.Scan(); i++ {
		var doc struct {
			Seq     uint64 `json:"_seq"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			rt.Fatalf("line %d: %v", i, err)
		}
		if i >= len(hits) || doc.Seq != hits[i].Seq || doc.Message != hits[i].Event.Message {
			rt.Fatalf("line %d: _seq %d message %q; want the hit %d of %d", i, doc.Seq, doc.Message, i, len(hits))
		}
	}
	if i != len(hits) {
		rt.Fatalf("%d lines, want %d", i, len(hits))
	}
}

// TestExportClientGoneLeavesNothing: a client that goes away in the middle
// of an export leaves no goroutine running and nothing charged to the
// store's memory budget.
func TestExportClientGoneLeavesNothing(t *testing.T) {
	e := bigFixture(t, Config{FlushTimeout: 5 * time.Second}, 3000)
	before := goleak.IgnoreCurrent()
	resp, err := http.Get(e.ts.URL + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	for range 10 {
		if _, err := r.ReadSlice('\n'); err != nil {
			t.Fatal(err)
		}
	}
	resp.Body.Close()
	e.ts.CloseClientConnections()
	acct := e.db.Memory().Account(eventlog.AccountQueries)
	for acct.Used() != 0 { // the handler has not yet seen the client go
		time.Sleep(10 * time.Millisecond)
	}
	goleak.VerifyNone(t, before)
}
