package destination

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
)

// benchReceiver is a loopback receiver that verifies each request's
// signature, counts its events and bytes, and notes when each batch
// arrived.
type benchReceiver struct {
	secret string

	mu       sync.Mutex
	events   int
	bytes    int64
	arrivals []arrival
	want     int
	done     chan struct{} // closed once want events have arrived
}

type arrival struct {
	first, last uint64
	at          time.Time
}

func (rc *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	at := time.Now()
	if r.Header.Get(HeaderSignature) != Sign(rc.secret, r.Header.Get(HeaderTimestamp), body) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	first, last, _ := strings.Cut(r.Header.Get(HeaderIdempotencyKey), "-")
	a := arrival{at: at}
	a.first, _ = strconv.ParseUint(first, 10, 64)
	a.last, _ = strconv.ParseUint(last, 10, 64)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events += bytes.Count(body, []byte{'\n'})
	rc.bytes += int64(len(body))
	rc.arrivals = append(rc.arrivals, a)
	if rc.events >= rc.want && rc.done != nil {
		close(rc.done)
		rc.done = nil
	}
}

// expect resets the counts and returns a channel closed once n events
// have arrived.
func (rc *benchReceiver) expect(n int) <-chan struct{} {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events, rc.bytes, rc.arrivals, rc.want = 0, 0, nil, n
	done := make(chan struct{})
	rc.done = done
	return done
}

// benchSetup opens a store (SyncAlways; heads of up to segmentBytes), a
// receiver and a manager, all closed when b ends.
func benchSetup(b *testing.B, segmentBytes int64) (*eventlog.DB, *benchReceiver, string, *Manager) {
	db, err := eventlog.Open(b.TempDir(), eventlog.Options{AllowUnregistered: true, Sync: eventlog.SyncAlways, SegmentMaxBytes: segmentBytes})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	rc := &benchReceiver{secret: "bench-secret"}
	ts := httptest.NewServer(rc)
	b.Cleanup(ts.Close)
	m, err := Open(db, b.TempDir(), nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return db, rc, ts.URL, m
}

// waitDone waits for done, failing after a minute.
func waitDone(b *testing.B, done <-chan struct{}, m *Manager, name string) {
	select {
	case <-done:
	case <-time.After(time.Minute):
		st, _ := m.Get(name)
		b.Fatalf("deliveries stalled: %+v", st)
	}
}

// BenchmarkDeliveryThroughput measures how fast a destination catches up
// on stored events (realistic ones, ~700 B of JSON each): each op creates
// a destination from the beginning of a store of benchEvents events and
// waits until the receiver has all of them; the receiver verifies every
// signature. The events are read from the in-memory heads (recent events)
// or from segments (a destination far behind), in batches of the default
// size or larger; MaxDelay is the default.
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, source := range []string{"head", "segments"} {
		for _, batch := range []int{DefaultBatchSize, 10_000} {
			b.Run(fmt.Sprintf("from=%s/batch=%d", source, batch), func(b *testing.B) {
				benchThroughput(b, source == "segments", batch)
			})
		}
	}
}

func benchThroughput(b *testing.B, roll bool, batch int) {
	const benchEvents = 200_000
	db, rc, url, m := benchSetup(b, 1<<30)
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	for range benchEvents / 10_000 {
		evs := make([]eventlog.Event, 10_000)
		for i := range evs {
			evs[i] = g.Next()
		}
		if _, err := db.Append(context.Background(), evs...); err != nil {
			b.Fatal(err)
		}
	}
	if roll {
		if err := db.Roll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	var total int64
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprint("bench-", i)
		done := rc.expect(benchEvents)
		if _, err := m.Put(Config{Name: name, URL: url, Secret: rc.secret, Start: "beginning", BatchSize: batch}); err != nil {
			b.Fatal(err)
		}
		waitDone(b, done, m, name)
		b.StopTimer()
		total += rc.bytes
		if err := m.Delete(name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.SetBytes(total / int64(b.N))
	b.ReportMetric(float64(benchEvents*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDeliveryLatency measures the time from the call to Append to
// the receipt of the event by the receiver, with the default batch size
// and MaxDelay, while events are appended at a steady rate (a batch every
// 10 ms, each Append fsynced). An op is one second of appends.
func BenchmarkDeliveryLatency(b *testing.B) {
	for _, rate := range []int{2_000, 20_000, 100_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			benchLatency(b, rate)
		})
	}
}

func benchLatency(b *testing.B, rate int) {
	db, rc, url, m := benchSetup(b, 0)
	if _, err := m.Put(Config{Name: "live", URL: url, Secret: rc.secret}); err != nil {
		b.Fatal(err)
	}
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 2})
	perTick := rate / 100
	n := perTick * 100 * b.N
	done := rc.expect(n)
	sent := make([]time.Time, 0, n) // by sequence number - first
	var first uint64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for len(sent) < n {
		<-tick.C
		evs := make([]eventlog.Event, perTick)
		for i := range evs {
			evs[i] = g.Next()
		}
		start := time.Now()
		res, err := db.Append(context.Background(), evs...)
		if err != nil {
			b.Fatal(err)
		}
		if first == 0 {
			first = res.FirstSeq
		}
		if want := first + uint64(len(sent)); res.FirstSeq != want {
			b.Fatalf("append got seq %d, want %d", res.FirstSeq, want)
		}
		for range evs {
			sent = append(sent, start)
		}
	}
	waitDone(b, done, m, "live")
	b.StopTimer()
	rc.mu.Lock()
	lat := make([]time.Duration, 0, n)
	for _, a := range rc.arrivals {
		for seq := a.first; seq <= a.last; seq++ {
			lat = append(lat, a.at.Sub(sent[seq-first]))
		}
	}
	rc.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))].Seconds() * 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1].Seconds()*1000, "max-ms")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
