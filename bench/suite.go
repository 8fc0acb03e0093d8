package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/query"
)

// Defaults of SuiteConfig: issue 15's end-to-end benchmark.
const (
	DefaultSuiteEvents  = 2_000_000
	DefaultSuiteBatch   = 10_000
	DefaultSuiteClients = 2
	DefaultSuiteRuns    = 20
)

// SuiteConfig describes one RunSuite. The zero value of every field is its
// default.
type SuiteConfig struct {
	// URL is the server, which must be empty: the suite ingests, then
	// checks answers that count every event. Its durability is its own
	// setting (eventlog serve's default, --sync always, is the issue's).
	URL        string
	HTTPClient *http.Client
	// Events is how many generated events to ingest (every one distinct),
	// Batch the events per _bulk request, Clients the concurrent _bulk
	// clients. Zero: DefaultSuiteEvents, DefaultSuiteBatch,
	// DefaultSuiteClients.
	Events  int64
	Batch   int
	Clients int
	// ES ingests through /es/_bulk instead of the native _bulk (see
	// Config.ES).
	ES bool
	// Runs is how many times each query is timed, warm, after one
	// checked run. Zero: DefaultSuiteRuns.
	Runs int
	Seed int64
	// Settle has the server seal every event it holds in memory after the
	// ingest and before the queries (POST /api/_roll, what a server with
	// --segment-idle does by itself once the ingest has stopped), so the
	// queries measure a settled server rather than one just done ingesting.
	Settle bool
	// Prepare makes every _bulk body before the ingest's clock starts, so
	// the client's generator does not share the cores with the server it
	// measures (Config.Prepare).
	Prepare bool
	// Progress, when set, is called with the ingest's progress (see
	// Config.Progress).
	Progress func(Progress)
	// Log, when set, is told each step as it starts.
	Log func(string)
	// Phase, when set, is called with "ingest" as the ingest starts and
	// "queries" as the queries do, for the caller's own measurements of
	// each (bench http samples the server's memory by phase).
	Phase func(string)
}

// SuiteReport is what RunSuite measured. The server's own figures (its
// peak RSS, the bytes on disk) are for the caller, which runs it, to add.
type SuiteReport struct {
	Config SuiteConfig `json:"-"`
	// Ingest is the _bulk run's report (events/s to the last
	// acknowledgement, append latency, the server's CPU and sampled RSS).
	Ingest *Report `json:"ingest"`
	// SearchableSeconds is from the first append until a count of every
	// event answered Events; EventsPerSec is Events over it.
	SearchableSeconds float64 `json:"searchable_seconds"`
	EventsPerSec      float64 `json:"events_per_sec"`
	// SettleSeconds is how long the server took, after that count, to
	// seal what it held in memory (SuiteConfig.Settle; 0 without it).
	SettleSeconds float64 `json:"settle_seconds,omitempty"`
	// Queries are issue 15's queries, each answer checked.
	Queries []SuiteQueryResult `json:"queries"`
	// Server holds the figures of the server process, when the caller
	// knows them.
	Server *SuiteServer `json:"server,omitempty"`
}

// SuiteQueryResult is one query's warm latency over Runs runs.
type SuiteQueryResult struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Events is how many events the checked answer held (or counted);
	// BodyBytes the size of a timed answer.
	Events    int `json:"events"`
	BodyBytes int `json:"body_bytes"`
	// FirstMS is the first run's latency, before any other run of the
	// query warmed the server's caches for it; Latency is over the Runs
	// warm runs after the checked one.
	FirstMS float64 `json:"first_ms"`
	Latency Latency `json:"latency"`
}

// SuiteServer are the server process's figures.
type SuiteServer struct {
	// PeakRSSBytes is the process's peak resident set (getrusage's
	// maxrss once it has exited).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Memory splits the resident set by phase of the run (ingest, then
	// the queries): anonymous memory, which the server's --memory-limit
	// bounds, apart from mapped file pages, which the kernel can reclaim.
	// Empty where the server's /proc files cannot be read (off Linux).
	Memory []PhaseMemory `json:"memory,omitempty"`
	// Disk is the data directory after a final roll, and Layout where its
	// segments' bytes go. With bench http --rest they are measured once
	// the server's background merges are done (WaitAtRest), RestSeconds
	// after the queries ended, with PendingMerges still to run (0 unless
	// the wait gave up); EndDisk is then the directory as the queries
	// ended.
	Disk          *Disk   `json:"disk,omitempty"`
	Layout        *Layout `json:"layout,omitempty"`
	EndDisk       *Disk   `json:"end_disk,omitempty"`
	RestSeconds   float64 `json:"rest_seconds,omitempty"`
	PendingMerges int     `json:"pending_merges,omitempty"`
}

// PhaseMemory is the server's resident memory over one phase of the run,
// the largest of samples taken every SampleEveryMS from /proc/PID/status.
type PhaseMemory struct {
	Phase   string `json:"phase"`
	Samples int    `json:"samples"`
	// PeakAnonBytes is the largest RssAnon: heap, stacks and other
	// anonymous memory. PeakFileBytes is the largest RssFile: pages of
	// mapped files (segments, WAL), shared with the page cache.
	PeakAnonBytes int64 `json:"peak_anon_bytes"`
	PeakFileBytes int64 `json:"peak_file_bytes"`
	SampleEveryMS int64 `json:"sample_every_ms"`
}

func (cfg SuiteConfig) withDefaults() (SuiteConfig, error) {
	switch {
	case cfg.URL == "":
		return cfg, errors.New("bench suite: no server URL")
	case cfg.Events < 0, cfg.Batch < 0, cfg.Clients < 0, cfg.Runs < 0:
		return cfg, errors.New("bench suite: negative events, batch, clients or runs")
	}
	setDefault(&cfg.Events, DefaultSuiteEvents)
	setDefault(&cfg.Batch, DefaultSuiteBatch)
	setDefault(&cfg.Clients, DefaultSuiteClients)
	setDefault(&cfg.Runs, DefaultSuiteRuns)
	if cfg.Log == nil {
		cfg.Log = func(string) {}
	}
	if cfg.Phase == nil {
		cfg.Phase = func(string) {}
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Clients + 2
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	return cfg, nil
}

func setDefault[T int | int64](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// RunSuite is issue 15's end-to-end benchmark against the empty server at
// cfg.URL: it ingests cfg.Events generated events with cfg.Clients
// concurrent _bulk clients in batches of cfg.Batch, waits until a count
// sees them all, then runs each of the queries once checked against
// the generator's expectation (computed from the generated events alone,
// before the ingest) and cfg.Runs times timed, warm. Each query's first
// run, before its check, is timed on its own.
func RunSuite(ctx context.Context, cfg SuiteConfig) (*SuiteReport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := GeneratedWorkload(GeneratorConfig{Seed: cfg.Seed, Rate: SpreadRate(cfg.Events)})
	cfg.Log(fmt.Sprintf("computing the expected answers over %d generated events", cfg.Events))
	x := expectSuite(w, cfg.Events)
	c, err := client.New(cfg.URL, &client.Options{HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("bench suite: %w", err)
	}
	defer c.CloseIdleConnections()
	if err := checkEmpty(ctx, c); err != nil {
		return nil, err
	}
	if cfg.Prepare {
		cfg.Log("making every _bulk body before the clock starts (--prepare)")
	}
	cfg.Log(fmt.Sprintf("ingesting with %d _bulk clients in batches of %d", cfg.Clients, cfg.Batch))
	cfg.Phase("ingest")
	rep := &SuiteReport{Config: cfg}
	rep.Ingest, err = Run(ctx, Config{
		Workload: w, Seed: cfg.Seed, URL: cfg.URL, HTTPClient: cfg.HTTPClient,
		Events: cfg.Events, Batch: cfg.Batch, Concurrency: cfg.Clients, Progress: cfg.Progress, ES: cfg.ES,
		Prepare: cfg.Prepare,
	})
	if err != nil {
		return rep, err
	}
	wait, err := waitSearchable(ctx, c, cfg.Events)
	if err != nil {
		return rep, err
	}
	rep.SearchableSeconds = rep.Ingest.Seconds + wait.Seconds()
	rep.EventsPerSec = float64(cfg.Events) / rep.SearchableSeconds
	if cfg.Settle {
		cfg.Log("having the server seal what it holds in memory (POST /api/_roll)")
		settle, err := waitSettled(ctx, c)
		if err != nil {
			return rep, err
		}
		rep.SettleSeconds = settle.Seconds()
	}
	cfg.Phase("queries")
	for _, q := range suiteQueries(x) {
		cfg.Log("query " + q.Name)
		res, err := runSuiteQuery(ctx, &cfg, c, q)
		if err != nil {
			return rep, fmt.Errorf("bench suite: %s: %w", q.Name, err)
		}
		rep.Queries = append(rep.Queries, res)
	}
	return rep, nil
}

// checkEmpty refuses a server that already holds events: the expected
// answers count the suite's alone.
func checkEmpty(ctx context.Context, c *client.Client) error {
	a, err := c.Aggregate(ctx, query.Request{})
	if err != nil {
		return fmt.Errorf("bench suite: count the server's events: %w", err)
	}
	if a.Total != 0 {
		return fmt.Errorf("bench suite: the server already holds %d events; it needs an empty data directory", a.Total)
	}
	return nil
}

// searchableStall is how long waitSearchable waits for a count that does
// not grow before it gives up: every acknowledged event is searchable at
// once, so a count that stays short means events were lost.
const searchableStall = 30 * time.Second

// waitSearchable waits until a count of every event answers n, and returns
// how long that took.
func waitSearchable(ctx context.Context, c *client.Client, n int64) (time.Duration, error) {
	start, grew, last := time.Now(), time.Now(), -1
	for {
		a, err := c.Aggregate(ctx, query.Request{})
		switch {
		case err != nil:
			return 0, fmt.Errorf("bench suite: count: %w", err)
		case int64(a.Total) == n:
			return time.Since(start), nil
		case int64(a.Total) > n:
			return 0, fmt.Errorf("bench suite: the server counts %d events, %d were sent", a.Total, n)
		case a.Total != last:
			grew, last = time.Now(), a.Total
		case time.Since(grew) > searchableStall:
			return 0, fmt.Errorf("bench suite: the server counts %d events of the %d acknowledged, and no more for %v", a.Total, n, searchableStall)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitSettled has the server seal what its heads hold (POST /api/_roll,
// which answers once the segments are written) and checks that nothing is
// left in memory.
func waitSettled(ctx context.Context, c *client.Client) (time.Duration, error) {
	start := time.Now()
	if err := c.Do(ctx, http.MethodPost, "api/_roll", url.Values{"timeout": {"5m"}}, nil, nil); err != nil {
		return 0, fmt.Errorf("bench suite: settle: %w", err)
	}
	took := time.Since(start)
	var st struct {
		HeadEvents  int64 `json:"head_events"`
		FrozenHeads int   `json:"frozen_heads"`
	}
	if err := c.Do(ctx, http.MethodGet, "api/_stats", nil, nil, &st); err != nil {
		return 0, fmt.Errorf("bench suite: settle: %w", err)
	}
	if st.HeadEvents != 0 || st.FrozenHeads != 0 {
		return 0, fmt.Errorf("bench suite: settle: after a roll the server holds %d events in memory (%d frozen heads)", st.HeadEvents, st.FrozenHeads)
	}
	return took, nil
}

// WaitAtRest polls the server at u (every second, through hc) until its
// background compaction has nothing left to merge (/api/_stats
// maintenance.pending_merges 0), for at most limit, and returns how long
// it waited and the merges still pending then (0 at rest). The background
// merges wait for reads to pause, so a server's disk at the end of a run
// is not what it keeps at rest: bench http --rest reports both.
func WaitAtRest(ctx context.Context, hc *http.Client, u string, limit time.Duration) (time.Duration, int, error) {
	c, err := client.New(u, &client.Options{HTTPClient: hc})
	if err != nil {
		return 0, 0, fmt.Errorf("bench: at rest: %w", err)
	}
	defer c.CloseIdleConnections()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var st struct {
			Maintenance struct {
				PendingMerges *int `json:"pending_merges"`
			} `json:"maintenance"`
		}
		if err := c.Do(ctx, http.MethodGet, "api/_stats", nil, nil, &st); err != nil {
			return time.Since(start), 0, fmt.Errorf("bench: at rest: %w", err)
		}
		p := st.Maintenance.PendingMerges
		switch {
		case p == nil:
			return time.Since(start), 0, errors.New("bench: at rest: the server's /api/_stats has no maintenance.pending_merges (an older eventlog?)")
		case *p == 0 || time.Since(start) >= limit:
			return time.Since(start), *p, nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), *p, ctx.Err()
		case <-tick.C:
		}
	}
}

// runSuiteQuery checks q's answer once, then times cfg.Runs runs of it,
// each from sending the request to reading the last byte of the answer.
func runSuiteQuery(ctx context.Context, cfg *SuiteConfig, c *client.Client, q suiteQuery) (SuiteQueryResult, error) {
	res := SuiteQueryResult{Name: q.Name, What: q.What}
	body, err := json.Marshal(q.Req)
	if err != nil {
		return res, err
	}
	u, err := url.JoinPath(c.URL(), q.Path)
	if err != nil {
		return res, err
	}
	// The first run is timed alone, before the check: it is the only one
	// that finds none of the query's own reads in the server's caches.
	start := time.Now()
	if _, err := post(ctx, cfg.HTTPClient, u, body); err != nil {
		return res, err
	}
	res.FirstMS = float64(time.Since(start)) / float64(time.Millisecond)
	n, err := q.check(ctx, c)
	if err != nil {
		return res, fmt.Errorf("wrong answer: %w", err)
	}
	res.Events = n
	h := NewHistogram()
	for range cfg.Runs {
		start := time.Now()
		res.BodyBytes, err = post(ctx, cfg.HTTPClient, u, body)
		if err != nil {
			return res, err
		}
		h.Record(time.Since(start))
	}
	res.Latency = h.Latency()
	return res, nil
}

// post sends body to u and reads the whole answer, returning its size.
func post(ctx context.Context, hc *http.Client, u string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s answered %s", u, resp.Status)
	}
	return int(n), err
}

// QueryByName returns the named query's result, or nil.
func (r *SuiteReport) QueryByName(name string) *SuiteQueryResult {
	i := slices.IndexFunc(r.Queries, func(q SuiteQueryResult) bool { return q.Name == name })
	if i < 0 {
		return nil
	}
	return &r.Queries[i]
}
