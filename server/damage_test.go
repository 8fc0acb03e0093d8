package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/segment"
)

// damagedStore is a store of three segments, the first of three blocks,
// with one bit flipped in the middle of the first segment's block 1.
type damagedStore struct {
	*env
	file string
	// users maps each stored event's sequence number to its user.name
	// (unique); lost holds those of the damaged block: the 8,192 events
	// appended after the first 8,192 (a block holds 8,192 rows).
	users map[uint64]string
	lost  map[uint64]bool
	// block is the damaged block as salvage describes the intact file.
	block segment.SalvagedBlock
}

// base is the first event's timestamp; event i is i ms later.
var base = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func newDamagedStore(t *testing.T) *damagedStore {
	t.Helper()
	d := &damagedStore{env: newEnv(t, Config{}), users: map[uint64]string{}, lost: map[uint64]bool{}}
	const big = 2*segment.DefaultBlockRows + 500
	d.append(0, big, segment.DefaultBlockRows, 2*segment.DefaultBlockRows)
	d.roll()
	d.append(big, 100, 0, 0)
	d.roll()
	d.append(big+100, 100, 0, 0)
	d.roll()
	segs := d.db.Segments()
	if len(segs) != 3 || segs[0].Events != big {
		t.Fatalf("segments %+v", segs)
	}
	d.file = segs[0].Name
	path := filepath.Join(d.dir, "segments", d.file)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	d.block = sal.Blocks[1]
	if d.block.Rows != segment.DefaultBlockRows {
		t.Fatalf("block 1 holds %d rows", d.block.Rows)
	}
	flipBit(t, path, int64(d.block.Off+d.block.Len/2))
	return d
}

// append stores n events numbered from first; those numbered lostFrom to
// lostTo-1 are expected in the damaged block.
func (d *damagedStore) append(first, n, lostFrom, lostTo int) {
	d.t.Helper()
	evs := make([]eventlog.Event, n)
	for i := range evs {
		evs[i].Timestamp = event.DateOf(base.Add(time.Duration(first+i) * time.Millisecond))
		evs[i].Event.Provider, evs[i].Event.Action = "alerting", "execute"
		evs[i].User.Name = fmt.Sprintf("u-%d", first+i)
	}
	res, err := d.db.Append(context.Background(), evs...)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := range evs {
		seq := res.Seq(i)
		d.users[seq] = evs[i].User.Name
		if first+i >= lostFrom && first+i < lostTo {
			d.lost[seq] = true
		}
	}
}

func (d *damagedStore) roll() {
	d.t.Helper()
	if err := d.db.Roll(context.Background()); err != nil {
		d.t.Fatal(err)
	}
}

// flipBit flips one bit of the file at off.
func flipBit(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// intact returns the sequence numbers of the events outside the damaged
// block, sorted.
func (d *damagedStore) intact() []uint64 {
	var out []uint64
	for seq := range d.users {
		if !d.lost[seq] {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

// searchPage is a _search answer.
type searchPage struct {
	Total    int    `json:"total"`
	Data     []hit  `json:"data"`
	Next     string `json:"next"`
	Partial  bool   `json:"partial"`
	Warnings []struct {
		File   string `json:"file"`
		Block  int    `json:"block"`
		MinSeq uint64 `json:"min_seq"`
		MaxSeq uint64 `json:"max_seq"`
		Reason string `json:"reason"`
	} `json:"warnings"`
}

// TestDamagedBlockAnsweredHonestly flips a bit in a segment's data block
// and checks every answer that reaches it over HTTP: the export stops
// with an error line and trailer, searches fail with type corruption
// naming the file and block, the store says it is degraded, a partial
// search answers exactly the intact events, and lookups of intact events
// still work.
func TestDamagedBlockAnsweredHonestly(t *testing.T) {
	d := newDamagedStore(t)

	// The export is first to read the block: it must not end short.
	lines, trailer := d.export(t)
	last := lines[len(lines)-1]
	var e apiErr
	if err := json.Unmarshal(last, &e); err != nil || e.Status != 500 || e.Error.Type != typeCorruption ||
		!strings.Contains(e.Error.Reason, d.file) || !strings.Contains(e.Error.Reason, "block 1") {
		t.Fatalf("last export line %s, want a corruption error naming %s block 1", last, d.file)
	}
	if !strings.HasPrefix(trailer, typeCorruption+": ") || !strings.Contains(trailer, d.file) {
		t.Fatalf("trailer %s %q", exportErrorTrailer, trailer)
	}
	// Before the error: the first events in time order, all from block 0
	// (the export reads a page at a time, and stops at the page reaching
	// block 1).
	events := lines[:len(lines)-1]
	if len(events) == 0 || len(events) > segment.DefaultBlockRows {
		t.Fatalf("exported %d events before the error, want some of block 0's %d", len(events), segment.DefaultBlockRows)
	}
	for i, line := range events {
		var doc struct {
			User struct{ Name string } `json:"user"`
		}
		if err := json.Unmarshal(line, &doc); err != nil || doc.User.Name != fmt.Sprintf("u-%d", i) {
			t.Fatalf("export line %d: %s, want event u-%d", i, line, i)
		}
	}

	// Found, confirmed and set aside: degraded, named, counted.
	r := d.do("GET", "/healthz", "", "")
	if want := fmt.Sprintf(`{"status":"degraded","quarantined":[%q]}`, d.file); string(r.body) != want {
		t.Fatalf("healthz %s, want %s", r.body, want)
	}
	if r := d.do("GET", "/metrics", "", ""); !bytes.Contains(r.body, []byte("\neventlog_quarantined_segments 1\n")) {
		t.Fatalf("metrics do not count the quarantined segment:\n%s", r.body)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "quarantine", d.file)); err != nil {
		t.Fatalf("not moved to quarantine/: %v", err)
	}

	// A search reaching the block fails, naming it.
	in := url.Values{"start": {d.stamp(d.block.MinTS)}, "end": {d.stamp(d.block.MaxTS)}}
	r = d.do("GET", "/api/events/_search?"+in.Encode(), "", "")
	ae := r.wantError(t, http.StatusInternalServerError, typeCorruption)
	if !strings.Contains(ae.Error.Reason, d.file) || !strings.Contains(ae.Error.Reason, "block 1") {
		t.Fatalf("reason %q does not name %s block 1", ae.Error.Reason, d.file)
	}
	d.do("GET", "/api/events/_search", "", "").wantError(t, http.StatusInternalServerError, typeCorruption)

	// With allow_partial: exactly the events outside the block.
	got, page := d.searchAll(t)
	if want := d.intact(); !slices.Equal(got, want) {
		t.Fatalf("partial search: %d events, want the %d intact ones", len(got), len(want))
	}
	if !page.Partial || len(page.Warnings) != 1 {
		t.Fatalf("partial %v, warnings %+v", page.Partial, page.Warnings)
	}
	w := page.Warnings[0]
	if w.File != d.file || w.Block != 1 || w.MinSeq != d.block.MinSeq || w.MaxSeq != d.block.MaxSeq || w.Reason == "" {
		t.Fatalf("warning %+v, want %s block 1 (sequence numbers %d-%d)", w, d.file, d.block.MinSeq, d.block.MaxSeq)
	}

	// Lookups of intact events, in the damaged segment and the others,
	// need no allow_partial.
	for _, i := range []int{5, 2*segment.DefaultBlockRows + 7, 2*segment.DefaultBlockRows + 550} {
		user := fmt.Sprintf("u-%d", i)
		var p searchPage
		r := d.do("GET", "/api/events/_search?filter="+url.QueryEscape("user.name:"+user), "", "")
		r.decode(t, &p)
		if r.status != http.StatusOK || len(p.Data) != 1 || d.users[p.Data[0].Seq] != user || p.Partial {
			t.Fatalf("lookup of %s: %d %s", user, r.status, r.body)
		}
	}
}

// stamp formats a Unix ns time as a query bound.
func (d *damagedStore) stamp(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// export reads a whole _export answer: its lines and the error trailer.
func (d *damagedStore) export(t *testing.T) ([][]byte, string) {
	t.Helper()
	resp, err := http.Get(d.ts.URL + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, declared := resp.Trailer[exportErrorTrailer]; resp.StatusCode != http.StatusOK || !declared {
		t.Fatalf("export: %d, trailers declared %v", resp.StatusCode, resp.Trailer)
	}
	var lines [][]byte
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("export stream cut after %d lines: %v", len(lines), err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatal("empty export")
	}
	return lines, resp.Trailer.Get(exportErrorTrailer)
}

// searchAll pages through a partial search of everything and returns the
// sequence numbers, sorted, and the last page.
func (d *damagedStore) searchAll(t *testing.T) ([]uint64, searchPage) {
	t.Helper()
	var seqs []uint64
	var page searchPage
	for after := ""; ; {
		body := map[string]any{"per_page": 10000, "allow_partial": true}
		if after != "" {
			body["search_after"] = after
		}
		js, _ := json.Marshal(body)
		r := d.do("POST", "/api/events/_search", ctJSON, string(js))
		page = searchPage{}
		r.decode(t, &page)
		if r.status != http.StatusOK {
			t.Fatalf("partial search: %d %s", r.status, r.body)
		}
		for _, h := range page.Data {
			seqs = append(seqs, h.Seq)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	slices.Sort(seqs)
	return slices.Compact(seqs), page
}

// TestTailStopsBeforeDamage: a tail over HTTP yields every event before a
// damaged block and ends naming it, resuming from its first event.
func TestTailStopsBeforeDamage(t *testing.T) {
	d := newDamagedStore(t)
	c := openTail(t, newClient(t), d.ts.URL+"/api/events/_tail?from=1", ndjsonAccept)
	var seqs []uint64
	for {
		rec, err := c.next()
		if err != nil {
			t.Fatalf("after %d events: %v", len(seqs), err)
		}
		if rec.end != nil {
			if !strings.Contains(rec.end.Error, d.file) || !strings.Contains(rec.end.Error, "block 1") || rec.end.ResumeFrom != d.block.MinSeq {
				t.Fatalf("tail ended with %+v, want %s block 1, resuming from %d", rec.end, d.file, d.block.MinSeq)
			}
			break
		}
		if !rec.ping {
			seqs = append(seqs, rec.seq)
		}
	}
	var want []uint64
	for seq := range d.users {
		if seq < d.block.MinSeq {
			want = append(want, seq)
		}
	}
	slices.Sort(want)
	if !slices.Equal(seqs, want) {
		t.Fatalf("tail yielded %d events, want the %d before the damaged block", len(seqs), len(want))
	}
}
