//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/client"
)

// envServerSoak runs TestServerSoak for the duration it names (1h).
const envServerSoak = "EVENTLOG_SERVER_SOAK"

// serverSoakGrowth is how much higher the last third's largest RSS may be
// than the middle third's before the soak fails: above it, memory has not
// levelled off. (RSS follows the Go heap's peaks, which swing with the
// queries and merges in flight when a GC ends, so it is never flat.)
const serverSoakGrowth = 0.15

// envServerSoakPprof, when set, is passed to the server as --pprof-addr, to
// take heap profiles while the soak runs.
const envServerSoakPprof = "EVENTLOG_SERVER_SOAK_PPROF"

// TestServerSoak runs the built binary's serve with a small head, frequent
// maintenance and a 10-minute retention, so it seals, compacts and drops
// segments all along, and offers it 1,000 generated events/s (batches of
// 100, stamped from now on) with a few queries a second (the bench mix of search, count, terms
// and stats, plus a saved object's _find). It samples the server's memory
// every interval: RSS and its split from /proc (anonymous; file-backed;
// the part of it that is mapped segment files), the Go heap and goroutines
// from /metrics, and the live segments. It prints the curve as a table and
// fails if the largest RSS of the last third of the run is over
// serverSoakGrowth above the middle third's (the first third is warm-up).
//
// It runs only with EVENTLOG_SERVER_SOAK set to a duration of at least
// 3m: EVENTLOG_SERVER_SOAK=1h go test ./cmd/eventlog -run ServerSoak -timeout 2h -v
func TestServerSoak(t *testing.T) {
	v := os.Getenv(envServerSoak)
	if v == "" {
		t.Skipf("%s is unset: this soak runs a server at 1,000 events/s for as long as it says (1h to show that memory levels off), too long and too heavy for the default run", envServerSoak)
	}
	run, err := time.ParseDuration(v)
	if err != nil || run < 3*time.Minute {
		t.Fatalf("%s=%q: want a duration of at least 3m (%v)", envServerSoak, v, err)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	args := []string{"--data", dir, "--addr", "127.0.0.1:0", "--allow-unregistered",
		"--segment-max-bytes", "4MiB", "--maintenance-interval", "10s",
		"--compaction-max-segment-bytes", "16MiB", "--retention-max-age", "10m", "--retention-max-bytes", "256MiB"}
	if addr := os.Getenv(envServerSoakPprof); addr != "" {
		args = append(args, "--pprof-addr", addr)
	}
	srv := startServe(t, bin, args...)
	defer srv.stop(t)

	ctx, cancel := context.WithTimeout(t.Context(), run)
	defer cancel()
	// Events stamped from now on, as many a second of event time as are
	// offered a second, so that --retention-max-age drops what is 10
	// minutes old and the data levels off after the first 10 minutes.
	work := bench.GeneratedWorkload(bench.GeneratorConfig{Seed: 1, Start: time.Now().UTC().Truncate(time.Second)})
	var wg sync.WaitGroup
	var rep *bench.Report
	var benchErr, findErr error
	var finds int
	wg.Go(func() {
		// Duration ends the run; the context only stops it if the test ends.
		rep, benchErr = bench.Run(t.Context(), bench.Config{URL: srv.url, Workload: work, Rate: 1000, Batch: 100,
			Concurrency: 2, QueryRate: 3, Events: math.MaxInt64, Duration: run})
	})
	wg.Go(func() { finds, findErr = soakFinds(ctx, srv.url) })
	interval := min(max(run/180, 10*time.Second), 30*time.Second)
	series := sampleServerSoak(ctx, t, srv, dir, interval)
	wg.Wait()

	printServerSoak(t, series)
	if benchErr != nil || findErr != nil {
		t.Fatalf("bench: %v; _find: %v", benchErr, findErr)
	}
	t.Logf("%d events appended (%.0f/s), %d _find", rep.Events, float64(rep.Events)/rep.Seconds, finds)
	for _, q := range rep.Queries {
		t.Logf("query %s: %d, %d errors %s", q.Kind, q.Count, q.Errors, q.FirstError)
		if q.Errors > 0 {
			t.Errorf("query %s failed %d times: %s", q.Kind, q.Errors, q.FirstError)
		}
	}
	checkServerSoak(t, series)
}

// soakFinds asks for the newest events of the bench mix's saved object
// through the Kibana _find route every 2 s until ctx is done, with the
// command's API client.
func soakFinds(ctx context.Context, url string) (int, error) {
	c, err := client.New(url, nil)
	if err != nil {
		return 0, err
	}
	var so *struct{ path, id string }
	for _, k := range bench.QueryMix() {
		if s := k.Req.SavedObjects; s != nil {
			path := "/api/event_log/" + s.Type + "/_find"
			if s.Space != "" {
				path = "/s/" + s.Space + path
			}
			so = &struct{ path, id string }{path, s.IDs[0]}
		}
	}
	if so == nil {
		return 0, fmt.Errorf("the bench query mix has no saved-object query")
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return n, nil
		case <-tick.C:
		}
		body := map[string]any{"ids": []string{so.id}, "per_page": 20, "sort_field": "@timestamp", "sort_order": "desc"}
		var ans struct {
			Total int64 `json:"total"`
		}
		if err := c.Do(ctx, http.MethodPost, so.path, nil, body, &ans); err != nil && ctx.Err() == nil {
			return n, fmt.Errorf("_find %s: %w", so.id, err)
		}
	}
}

// serverSoakSample is one look at the server's memory.
type serverSoakSample struct {
	at                      time.Duration
	rss, anon, file, segs   int64 // bytes: RSS, its anonymous and file-backed parts, mapped segment pages
	heapInuse, heapSys      int64 // go_memstats_heap_{inuse,sys}_bytes
	goroutines, segments    int
	segmentBytes, headBytes int64
}

// sampleServerSoak samples srv every interval until ctx is done.
func sampleServerSoak(ctx context.Context, t *testing.T, srv *serverProcess, dir string, interval time.Duration) []serverSoakSample {
	t.Helper()
	start := time.Now()
	var series []serverSoakSample
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s, err := sampleServer(t, srv, dir)
		if err != nil {
			t.Fatalf("sample at %v: %v", time.Since(start).Round(time.Second), err)
		}
		s.at = time.Since(start)
		series = append(series, s)
		select {
		case <-ctx.Done():
			return series
		case <-tick.C:
		}
	}
}

// sampleServer reads the server's /proc files and /metrics.
func sampleServer(t *testing.T, srv *serverProcess, dir string) (serverSoakSample, error) {
	t.Helper()
	var s serverSoakSample
	pid := srv.cmd.Process.Pid
	roll, err := procKiB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), nil)
	if err != nil {
		return s, err
	}
	s.rss, s.anon = roll["Rss"], roll["Anonymous"]
	s.file = s.rss - s.anon
	segDir := filepath.Join(dir, "segments") + "/"
	segs, err := procKiB(fmt.Sprintf("/proc/%d/smaps", pid), func(path string) bool { return strings.HasPrefix(path, segDir) })
	if err != nil {
		return s, err
	}
	s.segs = segs["Rss"]
	m, err := scrapeMetrics(t, srv.url)
	if err != nil {
		return s, err
	}
	s.heapInuse, s.heapSys = int64(m["go_memstats_heap_inuse_bytes"]), int64(m["go_memstats_heap_sys_bytes"])
	s.goroutines, s.segments = int(m["go_goroutines"]), int(m["eventlog_segments"])
	s.segmentBytes, s.headBytes = int64(m["eventlog_segment_bytes"]), int64(m["eventlog_head_bytes"])
	return s, nil
}

// procKiB sums the "Key: N kB" lines of a smaps-style file, in bytes. With
// a keep function only the mappings whose path it keeps count.
func procKiB(name string, keep func(path string) bool) (map[string]int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]int64{}
	counting := keep == nil
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 3 && fields[2] == "kB" && strings.HasSuffix(fields[0], ":"):
			if counting {
				n, _ := strconv.ParseInt(fields[1], 10, 64)
				sums[strings.TrimSuffix(fields[0], ":")] += n << 10
			}
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's header line
			counting = keep == nil || (len(fields) >= 6 && keep(fields[5]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return sums, nil
}

// scrapeMetrics returns the unlabelled samples of the server's /metrics.
func scrapeMetrics(t *testing.T, url string) (map[string]float64, error) {
	t.Helper()
	ans := doHTTP(t, "GET", url+"/metrics", "")
	if ans.status != 200 {
		return nil, fmt.Errorf("scrape /metrics: %d %s", ans.status, ans.body)
	}
	out := map[string]float64{}
	for line := range strings.Lines(ans.body) {
		name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = f
		}
	}
	return out, nil
}

// printServerSoak logs the curve, one row a sample.
func printServerSoak(t *testing.T, series []serverSoakSample) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%8s %8s %8s %8s %8s %8s %8s %5s %9s %9s\n",
		"time", "RSS MiB", "anon", "file", "seg-map", "heap", "heapsys", "gor", "segments", "seg MiB")
	for _, s := range series {
		fmt.Fprintf(&b, "%8s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %5d %9d %9.1f\n",
			s.at.Round(time.Second), mibOf(s.rss), mibOf(s.anon), mibOf(s.file), mibOf(s.segs),
			mibOf(s.heapInuse), mibOf(s.heapSys), s.goroutines, s.segments, mibOf(s.segmentBytes))
	}
	t.Logf("server memory over the soak:\n%s", b.String())
}

func mibOf(n int64) float64 { return float64(n) / (1 << 20) }

// checkServerSoak fails if RSS kept growing: the largest value of the last
// third of the run over serverSoakGrowth above the middle third's. It
// reports the same for the heap in use, which a sample catches anywhere
// between two GCs and so swings too much to judge by.
func checkServerSoak(t *testing.T, series []serverSoakSample) {
	t.Helper()
	if len(series) < 9 {
		t.Fatalf("%d samples: too few to judge", len(series))
	}
	third := len(series) / 3
	mid, last := series[third:2*third], series[2*third:]
	peak := func(ss []serverSoakSample, f func(serverSoakSample) int64) int64 {
		var m int64
		for _, s := range ss {
			m = max(m, f(s))
		}
		return m
	}
	heap := func(s serverSoakSample) int64 { return s.heapInuse }
	t.Logf("heap in use: largest %.1f MiB in the middle third, %.1f MiB in the last",
		mibOf(peak(mid, heap)), mibOf(peak(last, heap)))
	rss := func(s serverSoakSample) int64 { return s.rss }
	m, l := peak(mid, rss), peak(last, rss)
	t.Logf("RSS: largest %.1f MiB in the middle third, %.1f MiB in the last (%+.1f%%)",
		mibOf(m), mibOf(l), 100*(float64(l)/float64(m)-1))
	if float64(l) > float64(m)*(1+serverSoakGrowth) {
		t.Errorf("RSS kept growing: %.1f MiB in the last third against %.1f MiB in the middle (over %.0f%% more)",
			mibOf(l), mibOf(m), 100*serverSoakGrowth)
	}
}
