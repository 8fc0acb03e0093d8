package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog"
)

// Defaults of Config.
const (
	DefaultEvents      = 1_000_000
	DefaultBatch       = 1000
	DefaultConcurrency = 2
)

// Config describes one run of Run. The zero value of every field is its
// default.
type Config struct {
	// Workload is what to append. Nil: GeneratedWorkload of the generator
	// seeded with Seed, its events spread over DefaultSpan (SpreadRate of
	// Events).
	Workload *Workload
	// Seed seeds the default workload; the report records it.
	Seed int64

	// Dir is the embedded engine's data directory. "": a temporary
	// directory, removed after the run.
	Dir string
	// URL, when set, is a server to bench through its HTTP API (POST
	// /api/events/_bulk) instead of the embedded engine. Sync and
	// SegmentMaxBytes are then the server's business.
	URL string
	// APIKey is sent to URL with every request (client.Options.APIKey);
	// empty: none.
	APIKey string
	// ES sends the events to URL's Elasticsearch-compatible /es/_bulk,
	// each after a create action line, instead of the native _bulk: the
	// same events, to compare the two.
	ES bool
	// Prepare makes every batch's request body before the clock starts,
	// so that while timed the client only sends them: the CPU it spends
	// generating and encoding events would, on one machine, come from the
	// cores of the server being measured, where a real shipper runs on
	// its own. It needs URL and Events, and holds every body in memory
	// until it is sent (about AvgJSON+1 bytes an event).
	Prepare bool
	// HTTPClient talks to URL. Nil: a client keeping a connection per
	// writer.
	HTTPClient *http.Client

	// Events is how many events to append, and Duration how long to
	// append for; the run stops at the first reached. Both zero:
	// DefaultEvents.
	Events   int64
	Duration time.Duration
	// Batch is the events per append (per request over HTTP). Zero:
	// DefaultBatch.
	Batch int
	// Concurrency is the number of writers, each appending one batch at a
	// time. Zero: DefaultConcurrency.
	Concurrency int
	// Sync and SegmentMaxBytes are the embedded engine's options (zero:
	// its defaults, SyncAlways and 64 MiB).
	Sync            eventlog.SyncPolicy
	SegmentMaxBytes int64
	// Rate, when positive, makes the run open-loop: batch i is due at
	// i*Batch/Rate seconds after the start, whether or not the writers
	// keep up, and its latency is counted from then, so a stall is
	// charged to every batch it delays (no coordinated omission). Zero:
	// closed loop, each writer appending as fast as it can.
	Rate float64
	// QueryRate, when positive, issues that many queries per second from
	// QueryMix (in turn, one at a time, open-loop like Rate) while the
	// events are appended.
	QueryRate float64

	// Progress, when set, is called about ten times a second from one
	// goroutine with the run's progress.
	Progress func(Progress)
}

// Progress is how far a run has gone.
type Progress struct {
	Events  int64
	Elapsed time.Duration
	// Rate is the events/s of the last second or so.
	Rate float64
	// Total is Config.Events (0 with Duration alone); Duration is
	// Config.Duration.
	Total    int64
	Duration time.Duration
}

// ETA estimates the time left: by Duration, or by the current rate towards
// Total, whichever is sooner; negative when unknown.
func (p Progress) ETA() time.Duration {
	eta := time.Duration(-1)
	if p.Duration > 0 {
		eta = max(p.Duration-p.Elapsed, 0)
	}
	if p.Total > 0 && p.Rate > 0 {
		byCount := time.Duration(float64(p.Total-p.Events) / p.Rate * float64(time.Second))
		if eta < 0 || byCount < eta {
			eta = byCount
		}
	}
	return eta
}

// withDefaults returns cfg with its zero fields set, or an error for a
// field out of range.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Events < 0, cfg.Duration < 0, cfg.Batch < 0, cfg.Concurrency < 0, cfg.Rate < 0, cfg.QueryRate < 0:
		return cfg, errors.New("bench: negative events, duration, batch, concurrency or rate")
	case cfg.SegmentMaxBytes < 0:
		return cfg, errors.New("bench: negative segment size")
	}
	if cfg.Events == 0 && cfg.Duration == 0 {
		cfg.Events = DefaultEvents
	}
	if cfg.Prepare && (cfg.URL == "" || cfg.Events == 0) {
		return cfg, errors.New("bench: Prepare needs a server URL and a number of events")
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Workload == nil {
		cfg.Workload = GeneratedWorkload(GeneratorConfig{Seed: cfg.Seed, Rate: SpreadRate(cfg.Events)})
	}
	return cfg, nil
}

// Run appends cfg's workload to its target, with queries alongside if
// asked, and reports what it measured. When ctx is cancelled the run stops
// early and reports what was done (and ctx's error).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, stopped: make(chan struct{})}
	pairs := cfg.Workload.ProviderActions()
	if cfg.URL != "" {
		r.target, err = openRemote(ctx, &cfg, pairs)
	} else {
		r.target, err = openEmbedded(&cfg, pairs)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	rep, err := r.do(ctx)
	return rep, errors.Join(err, r.target.close())
}

// run is the state of one Run.
type run struct {
	cfg    Config
	target target
	start  time.Time

	events    atomic.Int64 // events acknowledged
	jsonBytes atomic.Int64 // their JSON size
	throttled atomic.Int64

	stopOnce sync.Once
	stopped  chan struct{} // closed to stop the writers and queries
	errMu    sync.Mutex
	err      error // the first writer's error

	// bodies are the request bodies Prepare made, by batch; each is
	// dropped once handed to a writer.
	bodies []preparedBatch

	recorders []*recorder // one per writer
	sampler   *sampler
	queries   *queryRunner
}

// do runs the workload and builds the report.
func (r *run) do(ctx context.Context) (*Report, error) {
	rep := &Report{Version: ReportVersion, Machine: thisMachine(), Config: r.info()}
	if e, ok := r.target.(*embedded); ok {
		rep.Config.Dir = e.dir
		rep.Machine.Filesystem = filesystemType(e.dir)
	}
	// What follows the appends runs even when ctx is cancelled: an
	// interrupted run still reports what it did.
	after := context.WithoutCancel(ctx)
	fsyncs0, _ := r.target.fsyncs(ctx)
	if r.cfg.Prepare {
		r.prepare()
	}
	use0 := selfUsage()
	r.start = time.Now()
	rep.Started = r.start.UTC()
	r.ingest(ctx)
	end := time.Now()
	use1 := selfUsage()
	fsyncs1, fsyncsOK := r.target.fsyncs(after)
	r.fill(rep, end.Sub(r.start), use0, use1)
	if fsyncsOK && fsyncs1 >= fsyncs0 {
		rep.WAL = WALStats{Fsyncs: fsyncs1 - fsyncs0, FsyncsPerSec: float64(fsyncs1-fsyncs0) / rep.Seconds}
	}
	err := r.firstError()
	if err == nil {
		err = r.target.finish(after, rep)
	}
	rep.Process.PeakRSSBytes = selfUsage().peakRSS
	rep.Machine.Load1End = loadAverage()
	if err == nil {
		err = ctx.Err()
	}
	return rep, err
}

// info echoes the configuration.
func (r *run) info() RunInfo {
	c := &r.cfg
	info := RunInfo{
		Target: "embedded", Workload: c.Workload.Source(), Seed: c.Seed, PoolEvents: c.Workload.Len(),
		AvgJSONBytes: c.Workload.AvgJSON(), Events: c.Events, Batch: c.Batch, Concurrency: c.Concurrency,
		Rate: c.Rate, QueryRate: c.QueryRate, Prepared: c.Prepare,
	}
	if c.Duration > 0 {
		info.Duration = c.Duration.String()
	}
	if c.URL != "" {
		info.Target, info.URL = "http", c.URL
	} else {
		info.Sync, info.SegmentMaxBytes = c.Sync.String(), c.SegmentMaxBytes
	}
	return info
}

// ingest runs the writers, the sampler and the queries until the events
// are appended, the duration is over, a writer fails or ctx is done.
func (r *run) ingest(ctx context.Context) {
	r.recorders = make([]*recorder, r.cfg.Concurrency)
	for i := range r.recorders {
		r.recorders[i] = newRecorder()
	}
	r.sampler = newSampler(r)
	writersDone, samplerDone := make(chan struct{}), make(chan struct{})
	go func() { r.sampler.loop(ctx, writersDone); close(samplerDone) }()
	var queriesDone chan struct{}
	if r.cfg.QueryRate > 0 {
		r.queries = newQueryRunner(r.target, r.cfg.QueryRate)
		queriesDone = make(chan struct{})
		go func() { r.queries.loop(ctx, r.start, r.stopped); close(queriesDone) }()
	}
	// A closed loop stops at Duration. An open loop (Rate) ends its
	// schedule there (due) but still sends the batches due before it that
	// a loaded machine made late, counting their latency from when they
	// were due: stopping at the clock would drop them and report a lighter
	// load than was asked for.
	if r.cfg.Duration > 0 && r.cfg.Rate <= 0 {
		timer := time.AfterFunc(r.cfg.Duration, r.stop)
		defer timer.Stop()
	}
	stopOnCancel := context.AfterFunc(ctx, r.stop)
	defer stopOnCancel()
	ahead := newLookahead(r.cfg.Concurrency)
	producerDone := make(chan struct{})
	go func() { r.produce(ahead); close(producerDone) }()
	var wg sync.WaitGroup
	for _, rec := range r.recorders {
		wg.Go(func() {
			if err := r.writer(ctx, rec, ahead); err != nil {
				r.fail(err)
			}
		})
	}
	wg.Wait()
	r.stop()
	<-producerDone
	close(writersDone)
	<-samplerDone
	if queriesDone != nil {
		<-queriesDone
	}
}

// stop tells the writers, the sampler and the queries to finish.
func (r *run) stop() { r.stopOnce.Do(func() { close(r.stopped) }) }

// fail records a writer's error and stops the run.
func (r *run) fail(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
	r.stop()
}

func (r *run) firstError() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// writer appends the batches the producer made, in turn with the other
// writers, until the run stops or every event is taken.
func (r *run) writer(ctx context.Context, rec *recorder, ahead *lookahead) error {
	var scratch []byte
	for b := range ahead.ready {
		if r.pastSchedule(b.i) { // later batches are later still: this writer is done
			ahead.free <- b
			return nil
		}
		err := r.appendBatch(ctx, rec, b, &scratch)
		ahead.free <- b
		if err != nil || isStopped(r.stopped) {
			return err
		}
	}
	return nil
}

// appendBatch appends b when it is due and counts it.
func (r *run) appendBatch(ctx context.Context, rec *recorder, b *batch, scratch *[]byte) error {
	began, ok := r.due(b.i)
	if !ok {
		return nil
	}
	var throttled int
	var err error
	if b.body != nil {
		throttled, err = r.target.(*remote).send(ctx, b.body, b.count)
	} else {
		throttled, err = r.target.append(ctx, b.events, scratch)
	}
	if err != nil {
		if isStop(ctx, err) {
			return nil
		}
		return fmt.Errorf("append batch %d: %w", b.i, err)
	}
	rec.record(time.Since(began))
	r.throttled.Add(int64(throttled))
	r.jsonBytes.Add(b.jsonBytes)
	r.events.Add(int64(b.count))
	return nil
}

// isStopped reports whether stop is closed.
func isStopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// isStop reports whether err is only the run's context ending.
func isStop(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// due waits until batch i is due and returns the time its latency counts
// from: now in a closed loop; with a Rate, its scheduled time, even when
// that has passed. It returns false when the run stopped first, or when the
// batch would be due after the end of Duration.
func (r *run) due(i int64) (time.Time, bool) {
	if r.cfg.Rate <= 0 {
		select {
		case <-r.stopped:
			return time.Time{}, false
		default:
			return time.Now(), true
		}
	}
	if r.pastSchedule(i) {
		return time.Time{}, false
	}
	at := r.start.Add(r.offset(i))
	return at, sleepUntil(at, r.stopped)
}

// offset is when batch i is due after the start, at Rate.
func (r *run) offset(i int64) time.Duration {
	return time.Duration(float64(i*int64(r.cfg.Batch)) / r.cfg.Rate * float64(time.Second))
}

// pastSchedule reports whether an open loop's batch i would be due after
// the end of Duration, so is not sent.
func (r *run) pastSchedule(i int64) bool {
	return r.cfg.Rate > 0 && r.cfg.Duration > 0 && r.offset(i) >= r.cfg.Duration
}

// sleepUntil waits until t, returning false if stop closes first.
func sleepUntil(t time.Time, stop <-chan struct{}) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-stop:
		return false
	case <-timer.C:
		return true
	}
}

// fill sets the report's figures from the counters, the histograms and
// the resource use between use0 and use1.
func (r *run) fill(rep *Report, elapsed time.Duration, use0, use1 usage) {
	rep.Events, rep.JSONBytes, rep.Seconds = r.events.Load(), r.jsonBytes.Load(), elapsed.Seconds()
	rep.Throttled = r.throttled.Load()
	secs := max(rep.Seconds, 1e-9)
	rep.Throughput.EventsPerSec = float64(rep.Events) / secs
	rep.Throughput.MBPerSec = float64(rep.JSONBytes) / 1e6 / secs
	rep.Series = r.sampler.series
	rep.Throughput.PerSecond = perSecondSpread(rep.Series, rep.Throughput.EventsPerSec)
	rep.Append = r.sampler.total.Latency()
	rep.AppendSpectrum = r.sampler.total.Spectrum()
	p := &rep.Process
	p.CPUUserSeconds, p.CPUSystemSeconds = (use1.user - use0.user).Seconds(), (use1.sys - use0.sys).Seconds()
	p.CPUSeconds = p.CPUUserSeconds + p.CPUSystemSeconds
	if rep.Events > 0 {
		p.CPUMicrosPerEvent = p.CPUSeconds / float64(rep.Events) * 1e6
	}
	if r.queries != nil {
		rep.Queries = r.queries.latencies()
	}
}
