package query

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// TestKeepPagesEqualWritten pages, as an export does (Options.Hits and
// Options.Keep), through segments of random events with random blocks,
// pages, order, filter and memory limit for the kept block, and checks
// that the pages together hold exactly the matching events written, in
// order, as JSON, and that the kept block is charged until Release and
// only then.
func TestKeepPagesEqualWritten(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		blockRows := rapid.IntRange(1, 20).Draw(rt, "blockRows")
		segments := rapid.IntRange(1, 3).Draw(rt, "segments")
		dir := t.TempDir()
		var evs []*event.Event
		var snap Snapshot
		for s := range segments {
			rows := make([]segment.Row, rapid.IntRange(1, 60).Draw(rt, "rows"))
			for i := range rows {
				e := randomKeepEvent(rt, len(evs))
				evs = append(evs, e)
				rows[i] = segment.Row{Seq: uint64(len(evs)), Event: e}
			}
			path := filepath.Join(dir, fmt.Sprintf("%d.seg", s))
			if _, err := segment.Write(path, rows, segment.WriteOptions{BlockRows: blockRows}); err != nil {
				rt.Fatal(err)
			}
			r, err := segment.Open(path, segment.OpenOptions{})
			if err != nil {
				rt.Fatal(err)
			}
			defer r.Close()
			snap.Sources = append(snap.Sources, r)
		}
		snap.MaxSeq = uint64(len(evs))
		desc := rapid.Bool().Draw(rt, "desc")
		failures := rapid.Bool().Draw(rt, "failuresOnly")
		req := Request{PerPage: rapid.IntRange(1, 50).Draw(rt, "perPage"), Sort: []SortField{{Field: "@timestamp", Order: "asc"}}}
		if desc {
			req.Sort[0].Order = "desc"
		}
		if failures {
			req.Filter = "event.outcome:failure"
		}
		var want [][]byte // the model: matching events, in order
		for _, e := range evs {
			if !failures || e.Event.Outcome == "failure" {
				want = append(want, event.AppendJSON(nil, e))
			}
		}
		if desc {
			slices.Reverse(want)
		}
		acct := memory.New(rapid.SampledFrom([]int64{1, 4 << 10, 0}).Draw(rt, "limit")).Account("q")
		keep := &Keep{Memory: acct}
		opts := Options{Keep: keep}
		var got [][]byte
		for {
			res, err := Execute(context.Background(), snap, req, opts)
			if err != nil {
				rt.Fatal(err)
			}
			for _, h := range res.Hits {
				got = append(got, event.AppendJSON(nil, &h.Event))
			}
			if res.Next == "" {
				break
			}
			req.SearchAfter, opts.Hits = res.Next, res.Hits
		}
		if len(got) != len(want) {
			rt.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				rt.Fatalf("event %d:\n%s\nwant\n%s", i, got[i], want[i])
			}
		}
		if (keep.kept != nil) != (acct.Used() > 0) {
			rt.Fatalf("keeps a block: %v, charged %d", keep.kept != nil, acct.Used())
		}
		keep.Release()
		if acct.Used() != 0 {
			rt.Fatalf("%d bytes charged after Release", acct.Used())
		}
	})
}

// randomKeepEvent returns the n-th event of TestKeepPagesEqualWritten, one
// second after the one before, with random fields.
func randomKeepEvent(rt *rapid.T, n int) *event.Event {
	e := &event.Event{}
	e.Timestamp = event.DateOf(time.Date(2024, 5, 1, 0, 0, n, 0, time.UTC))
	e.Event.Provider = rapid.SampledFrom([]string{"alerting", "actions", "task"}).Draw(rt, "provider")
	e.Event.Action = rapid.SampledFrom([]string{"execute", "active-instance", "execute-start"}).Draw(rt, "action")
	if rapid.Bool().Draw(rt, "failed") {
		e.Event.Outcome = "failure"
		e.Error.Message = rapid.StringN(0, 20, -1).Draw(rt, "error")
	}
	if rapid.Bool().Draw(rt, "message") {
		e.Message = rapid.StringN(0, 40, -1).Draw(rt, "msg")
	}
	if rapid.Bool().Draw(rt, "ref") {
		e.Kibana.SavedObjects = []event.SavedObject{{Rel: "primary", Type: "alert", ID: rapid.SampledFrom([]string{"A", "B"}).Draw(rt, "id"), Namespace: "s1"}}
	}
	return e
}
