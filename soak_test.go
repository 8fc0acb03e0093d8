package eventlog_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// soakClock is the store's clock in the soak test: it runs speed times
// faster than the wall clock until frozen.
type soakClock struct {
	base, start time.Time
	speed       time.Duration
	frozen      atomic.Int64 // Unix ns; 0: running
}

func (c *soakClock) Now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f).UTC()
	}
	return c.base.Add(time.Since(c.start) * c.speed)
}

func (c *soakClock) freeze() time.Time {
	now := c.Now()
	c.frozen.Store(now.UnixNano())
	return now
}

// soakSample is one look at the store while the soak runs.
type soakSample struct {
	at              time.Duration
	heap            uint64 // runtime.MemStats.HeapInuse after a GC
	statBytes, disk int64  // segments + WAL per Stats; the directory's files
	segments        int
	pendingDeletes  int
}

// soakAck is one acknowledged batch: its sequence numbers, @timestamp and
// each event's user.
type soakAck struct {
	first uint64
	n     int
	ts    time.Time
	users []string
}

// soakDelete is one acknowledged delete of a user's events: those stored
// before seq.
type soakDelete struct {
	user string
	seq  uint64
}

// TestSoakRetentionAndCompaction ingests at a steady rate, with queries
// running and a user's events deleted by query twice a second, under a
// clock 600 times faster than the wall clock, a short RetentionMaxAge, a
// small RetentionMaxBytes and maintenance every 50 ms. It checks that the
// disk stays within the bound (plus the head and the WAL), that the heap
// does not grow, that no unexpired acknowledged event is lost unless
// deleted, that no deleted one comes back, and that purges keep up. It runs 10 s; EVENTLOG_SOAK=2m (any Go duration) runs
// longer.
func TestSoakRetentionAndCompaction(t *testing.T) {
	run := 10 * time.Second
	if v := os.Getenv("EVENTLOG_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("EVENTLOG_SOAK=%q: %v", v, err)
		}
		run = d
	}
	const (
		speed     = 600              // 1 s of wall time is 10 min of store time
		maxAge    = 30 * time.Minute // 3 s of wall time
		maxBytes  = 3 << 19          // 1.5 MiB: at the peaks, max_age alone would keep more
		walFile   = 512 << 10
		headBytes = 128 << 10 // a seal every ~0.1 s: many small segments to merge
		rate      = 4000      // events per second of wall time
		batch     = 40        // per append: 100 appends a second
	)
	clock := &soakClock{base: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), start: time.Now(), speed: speed}
	dir := t.TempDir()
	opts := eventlog.Options{
		Now: clock.Now, AllowUnregistered: true,
		RetentionMaxAge: maxAge, RetentionMaxBytes: maxBytes,
		MaintenanceInterval: 50 * time.Millisecond,
		Partition:           10 * time.Minute, SegmentMaxBytes: headBytes, SegmentMaxAge: 5 * time.Minute,
		WALMaxFileBytes: walFile, CompactionMaxSegmentBytes: 512 << 10,
	}
	drops := &dropCounter{}
	opts.Logger = slog.New(drops)
	db, err := eventlog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ctx, stop := context.WithTimeout(context.Background(), run)
	defer stop()
	var wg sync.WaitGroup
	var acks []soakAck
	var ingestErr, queryErr, deleteErr error
	var deletes []soakDelete
	wg.Go(func() { acks, ingestErr = soakIngest(ctx, db, clock, rate, batch) })
	wg.Go(func() { deletes, deleteErr = soakDeletes(ctx, db) })
	var queries atomic.Int64
	wg.Go(func() { queryErr = soakQueries(ctx, db, &queries) })
	samples := soakSample{}
	var series []soakSample
	tick := time.NewTicker(250 * time.Millisecond)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			samples = sampleSoak(t, db, dir, clock)
			series = append(series, samples)
		}
	}
	tick.Stop()
	wg.Wait()
	if ingestErr != nil || queryErr != nil || deleteErr != nil {
		t.Fatalf("ingest: %v; queries: %v; deletes: %v", ingestErr, queryErr, deleteErr)
	}
	now := clock.freeze()

	st := db.Stats()
	m := st.Maintenance
	t.Logf("%v: %d batches acknowledged, %d queries; %d segments, %d drops (%d max_age, %d max_bytes; %s reclaimed), %d merges of %d segments; last error %q",
		run, len(acks), queries.Load(), st.Segments, m.RetentionDrops, drops.byAge.Load(), drops.bySize.Load(),
		mib(m.RetentionBytesReclaimed), m.Compactions, m.CompactedSegments, m.LastError)
	if m.RetentionDrops == 0 || m.Compactions == 0 || st.SealError != "" || m.LastError != "" {
		t.Fatalf("maintenance did not run cleanly: %+v, seal error %q", m, st.SealError)
	}
	checkSoakDisk(t, series, maxBytes+2*walFile+2*headBytes+int64(opts.CompactionMaxSegmentBytes))
	checkSoakHeap(t, series)
	checkSoakKept(t, db, acks, deletes, now.Add(-maxAge), drops.sizeRanges())
	checkSoakPurged(t, db, series, deletes)
}

// soakDeletes deletes one user's events twice a second until ctx is done
// and returns the acknowledged deletes.
func soakDeletes(ctx context.Context, db *eventlog.DB) ([]soakDelete, error) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var out []soakDelete
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return out, nil
		case <-tick.C:
		}
		// A rare user, as a privacy request usually is: a few events in a
		// few segments (the generator draws users by a Zipf law).
		user := "user" + strconv.Itoa(200+i%100)
		res, err := db.Delete(context.Background(), eventlog.DeleteRequest{Filter: "user.name:" + user})
		if err != nil {
			return out, err
		}
		out = append(out, soakDelete{user: user, seq: res.Seq})
	}
}

// deletedBy reports whether one of the deletes removed the event of user
// stored as seq.
func deletedBy(deletes []soakDelete, user string, seq uint64) bool {
	return slices.ContainsFunc(deletes, func(d soakDelete) bool { return d.user == user && seq < d.seq })
}

// checkSoakPurged: purges kept up (a delete pending in at most a few
// samples in a row) and, after a last compaction, none is pending.
func checkSoakPurged(t *testing.T, db *eventlog.DB, series []soakSample, deletes []soakDelete) {
	t.Helper()
	most, run := 0, 0
	for _, s := range series {
		if s.pendingDeletes > 0 {
			run++
		} else {
			run = 0
		}
		most = max(most, run)
	}
	if _, err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := db.Stats().Maintenance
	t.Logf("%d deletes hid %d events; %d segments rewritten by purges; pending in at most %d samples in a row", m.Deletes, m.DeletedEvents, m.PurgeRewrites, most)
	if len(deletes) == 0 || m.DeletedEvents == 0 || m.PendingDeletes != 0 || m.PendingPurgeSegments != 0 {
		t.Fatalf("deletes were not purged: %+v", m)
	}
}

// soakIngest appends batch events rate/batch times a second, stamped with
// the store's clock, until ctx is done, and returns what was acknowledged.
func soakIngest(ctx context.Context, db *eventlog.DB, clock *soakClock, rate, batch int) ([]soakAck, error) {
	gen := bench.NewGenerator(bench.GeneratorConfig{Seed: 7})
	events := make([]event.Event, batch)
	tick := time.NewTicker(time.Second * time.Duration(batch) / time.Duration(rate))
	defer tick.Stop()
	var acks []soakAck
	for {
		select {
		case <-ctx.Done():
			return acks, nil
		case <-tick.C:
		}
		gen.Fill(events)
		now := clock.Now()
		ts := event.DateOf(now)
		for i := range events {
			events[i].Timestamp = ts
		}
		res, err := db.Append(context.Background(), events...)
		if err != nil {
			return acks, err
		}
		users := make([]string, len(events))
		for i := range events {
			users[i] = events[i].User.Name
		}
		acks = append(acks, soakAck{first: res.FirstSeq, n: res.Count, ts: now, users: users})
	}
}

// soakQueries runs a mix of queries back to back until ctx is done: the
// newest page, a count over the last 10 minutes of store time, and terms
// with stats.
func soakQueries(ctx context.Context, db *eventlog.DB, n *atomic.Int64) error {
	reqs := []query.Request{
		{Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}, PerPage: 20},
		{Start: "10m", PerPage: 0},
		{Filter: "event.outcome:failure", Aggs: map[string]query.Agg{
			"by": {Terms: &query.TermsAgg{Field: "event.provider"}},
			"d":  {Stats: &query.StatsAgg{Field: "event.duration"}},
		}},
	}
	for i := 0; ctx.Err() == nil; i++ {
		var err error
		if r := reqs[i%len(reqs)]; r.Aggs != nil {
			_, err = db.Aggregate(context.Background(), r)
		} else {
			_, err = db.Query(context.Background(), r)
		}
		if err != nil {
			return err
		}
		n.Add(1)
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func sampleSoak(t *testing.T, db *eventlog.DB, dir string, clock *soakClock) soakSample {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := db.Stats()
	return soakSample{
		at:   time.Since(clock.start),
		heap: ms.HeapInuse, statBytes: st.SegmentBytes + st.WAL.Bytes,
		disk: dirBytes(t, dir), segments: st.Segments, pendingDeletes: st.Maintenance.PendingDeletes,
	}
}

// dirBytes is the size of the files under dir (files removed while it
// walks are skipped).
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkSoakDisk: neither Stats nor the directory ever passes bound.
func checkSoakDisk(t *testing.T, series []soakSample, bound int64) {
	t.Helper()
	var maxStat, maxDisk int64
	maxSegs := 0
	for _, s := range series {
		maxStat, maxDisk, maxSegs = max(maxStat, s.statBytes), max(maxDisk, s.disk), max(maxSegs, s.segments)
	}
	t.Logf("disk: at most %s per Stats (segments + WAL), %s in the directory, %d segments; bound %s",
		mib(maxStat), mib(maxDisk), maxSegs, mib(bound))
	if maxStat > bound || maxDisk > bound {
		t.Errorf("the store grew past its bound: %s per Stats, %s on disk, bound %s", mib(maxStat), mib(maxDisk), mib(bound))
	}
}

// checkSoakHeap: once retention has started dropping (after the first
// 40% of the run), the heap's median over the last third is at most 1.5
// times that of the third before it, plus 8 MiB.
func checkSoakHeap(t *testing.T, series []soakSample) {
	t.Helper()
	steady := series[len(series)*2/5:]
	if len(steady) < 6 {
		t.Fatalf("only %d samples in the steady state", len(steady))
	}
	third := len(steady) / 3
	median := func(ss []soakSample) uint64 {
		h := make([]uint64, len(ss))
		for i, s := range ss {
			h[i] = s.heap
		}
		slices.Sort(h)
		return h[len(h)/2]
	}
	early, late := median(steady[third:2*third]), median(steady[2*third:])
	t.Logf("heap in use: median %s then %s (first sample %s, last %s)",
		mib(int64(early)), mib(int64(late)), mib(int64(series[0].heap)), mib(int64(series[len(series)-1].heap)))
	if float64(late) > 1.5*float64(early)+8<<20 {
		t.Errorf("the heap grows: median %s, then %s", mib(int64(early)), mib(int64(late)))
	}
}

// checkSoakKept: every acknowledged event stamped at or after cutoff is
// found, except those deleted and those of segments RetentionMaxBytes
// dropped (bySize, from the engine's log: the drop records themselves sit
// in segments a later size drop may take), and no expired or deleted one
// is.
func checkSoakKept(t *testing.T, db *eventlog.DB, acks []soakAck, deletes []soakDelete, cutoff time.Time, bySize [][2]uint64) {
	t.Helper()
	want := map[uint64]bool{}
	for _, a := range acks {
		if a.ts.Before(cutoff) {
			continue
		}
		for i := range a.n {
			seq := a.first + uint64(i)
			if deletedBy(deletes, a.users[i], seq) {
				continue
			}
			if !slices.ContainsFunc(bySize, func(r [2]uint64) bool { return r[0] <= seq && seq <= r[1] }) {
				want[seq] = true
			}
		}
	}
	got := map[uint64]bool{}
	err := db.Export(context.Background(), query.Request{Filter: "not event.provider:eventlog"}, func(h query.Hit) error {
		if h.Event.Timestamp.Time().Before(cutoff) {
			return errors.New("an expired event was returned: " + h.Event.Timestamp.String())
		}
		if deletedBy(deletes, h.Event.User.Name, h.Seq) {
			return errors.New("a deleted event was returned: " + h.Event.User.Name + " " + strconv.FormatUint(h.Seq, 10))
		}
		got[h.Seq] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for seq := range want {
		if !got[seq] {
			lost++
		}
	}
	t.Logf("%d acknowledged events younger than the max age (%d segments of them dropped by size), %d found", len(want), len(bySize), len(got))
	if lost > 0 || len(want) == 0 {
		t.Fatalf("%d of %d unexpired acknowledged events are lost", lost, len(want))
	}
}

func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB"
}

// dropCounter is a slog handler counting the engine's retention drops by
// reason and keeping the sequence ranges of the size drops.
type dropCounter struct {
	byAge, bySize atomic.Int64
	mu            sync.Mutex
	sizes         [][2]uint64
}

// sizeRanges returns the sequence ranges of the segments dropped by size.
func (c *dropCounter) sizeRanges() [][2]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sizes)
}

func (c *dropCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *dropCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *dropCounter) WithGroup(string) slog.Handler            { return c }

func (c *dropCounter) Handle(_ context.Context, r slog.Record) error {
	var reason string
	var lo, hi uint64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "reason":
			reason = a.Value.String()
		case "min_seq":
			lo = a.Value.Uint64()
		case "max_seq":
			hi = a.Value.Uint64()
		}
		return true
	})
	switch reason {
	case "max_age":
		c.byAge.Add(1)
	case "max_bytes":
		c.bySize.Add(1)
		c.mu.Lock()
		c.sizes = append(c.sizes, [2]uint64{lo, hi})
		c.mu.Unlock()
	}
	return nil
}
