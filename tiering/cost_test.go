package tiering_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
)

// The cost and latency of keeping 10 TB of events a year in S3, which
// README ("Object storage", "Topology") quotes: rerun it with
//
//	go test ./tiering -run 'Example_cost|TestCostWALBytesPerEvent' -v
//
// and change an input below to model another bucket or rate (the
// example's Output then says what changed).
type costInputs struct {
	storedBytes      float64       // in the bucket once a year of events is kept a year
	bytesPerEvent    float64       // segment bytes per event
	walBytesPerEvent float64       // WAL frame bytes per event (a WAL chunk's payload)
	eventsPerSeal    float64       // events a seal puts in one segment
	putsPerSeal      float64       // requests a seal costs: segment, manifest, pointer
	mergedBytes      float64       // a compacted segment (--compaction-max-segment-bytes)
	putsPerMerged    float64       // requests a compacted segment costs (multipart)
	storageGBMonth   float64       // $ per GB-month (GB = 2^30 bytes, as S3 bills)
	putPer1000       float64       // $ per 1,000 PUT requests
	getPer1000       float64       // $ per 1,000 GET requests
	noncurrentDays   float64       // NoncurrentVersionExpiration of replaced objects
	request          time.Duration // one small request's latency, in region
	localRate        float64       // events/s measured with the WAL local
	syncRate         float64       // events/s measured with --sync-to-object-store
}

// tenTerabytes are the inputs README quotes, with their sources.
var tenTerabytes = costInputs{
	storedBytes: 10e12,
	// README, Performance, end to end over HTTP: 79.7 B/event, and 2M
	// events in 41 segments.
	bytesPerEvent: 79.7,
	eventsPerSeal: 2e6 / 41,
	// TestCostWALBytesPerEvent: the generator's events average 403.4
	// bytes in binary form, plus a 2-byte length prefix.
	walBytesPerEvent: 405.4,
	putsPerSeal:      3,
	// 1 GiB merged segments in 64 MiB parts: create, 16 parts, complete,
	// and their manifest and pointer.
	mergedBytes:   1 << 30,
	putsPerMerged: 20,
	// AWS S3 Standard, US East (N. Virginia): $0.023 per GB-month (first
	// 50 TB), PUT $0.005 and GET $0.0004 per 1,000 requests, as quoted by
	// usage.ai's "S3 Cost Calculator Guide" (rates of June 2026, from
	// aws.amazon.com/s3/pricing) and cloudburn.io (March 2026); DELETE is
	// free.
	storageGBMonth: 0.023,
	putPer1000:     0.005,
	getPer1000:     0.0004,
	noncurrentDays: 7,
	// AWS, "Best Practices Design Patterns: Optimizing Amazon S3
	// Performance": small requests' median latency is "in the tens of
	// milliseconds"; taken as 30 ms.
	request: 30 * time.Millisecond,
	// BenchmarkWALSyncAck: the medians of the five runs README quotes.
	localRate: 29312,
	syncRate:  9835,
}

// Example_costTenTerabytesAYear prints what 10 TB of events kept a year
// cost in S3 and what reads and acknowledgements wait for.
func Example_costTenTerabytesAYear() {
	in := tenTerabytes
	year := 365 * 24 * time.Hour
	events := in.storedBytes / in.bytesPerEvent
	rate := events / year.Seconds()
	fmt.Printf("events a year: %.4g, %.0f events/s on average\n", events, rate)
	fmt.Printf("measured here: %.0f events/s local WAL (%.1fx that), %.0f with --sync-to-object-store (%.1fx); 10 TB takes %.0f days at the latter\n",
		in.localRate, in.localRate/rate, in.syncRate, in.syncRate/rate, events/in.syncRate/86400)

	gb := in.storedBytes / (1 << 30)
	storage := gb * in.storageGBMonth * 12
	noncurrent := gb * in.noncurrentDays / 365 * in.storageGBMonth * 12
	fmt.Printf("storage: %.0f GB, $%.0f/year (+$%.0f for %g days of noncurrent versions)\n", gb, storage, noncurrent, in.noncurrentDays)

	seals := events / in.eventsPerSeal
	merged := in.storedBytes / in.mergedBytes
	puts := seals*in.putsPerSeal + merged*in.putsPerMerged
	fmt.Printf("seals: %.3g a year (one every %.1f s), %g PUTs each; compaction: %.0f merged segments; $%.0f/year of PUTs\n",
		seals, year.Seconds()/seals, in.putsPerSeal, merged, puts/1000*in.putPer1000)

	for _, age := range []time.Duration{5 * time.Millisecond, 100 * time.Millisecond, time.Second} {
		every := max(age, in.request) // one chunk at a time: the next goes when the last is in
		chunks := year.Seconds() / every.Seconds()
		fmt.Printf("--sync-to-object-store, chunk age %v: a chunk every %v (%.0f KB), $%.0f/year of PUTs, ack after about %v to %v\n",
			age, every, rate*every.Seconds()*in.walBytesPerEvent/1000, chunks/1000*in.putPer1000, age+in.request, age+every+in.request)
	}

	perDay := in.storedBytes / 365 / in.mergedBytes
	for _, days := range []float64{1, 30} {
		segs := math.Ceil(perDay * days)
		cold := segs * 4 // footer, block index, postings, one block
		fmt.Printf("query over %g day(s), one block per segment: %.0f segments, %.0f GETs cold ($%.5f), %.0f warm; %v cold, %v warm at 64 GETs in flight\n",
			days, segs, cold, cold/1000*in.getPer1000, segs,
			4*in.request*time.Duration(math.Ceil(segs/64)), in.request*time.Duration(math.Ceil(segs/64)))
	}
	// Output:
	// events a year: 1.255e+11, 3979 events/s on average
	// measured here: 29312 events/s local WAL (7.4x that), 9835 with --sync-to-object-store (2.5x); 10 TB takes 148 days at the latter
	// storage: 9313 GB, $2570/year (+$49 for 7 days of noncurrent versions)
	// seals: 2.57e+06 a year (one every 12.3 s), 3 PUTs each; compaction: 9313 merged segments; $40/year of PUTs
	// --sync-to-object-store, chunk age 5ms: a chunk every 30ms (48 KB), $5256/year of PUTs, ack after about 35ms to 65ms
	// --sync-to-object-store, chunk age 100ms: a chunk every 100ms (161 KB), $1577/year of PUTs, ack after about 130ms to 230ms
	// --sync-to-object-store, chunk age 1s: a chunk every 1s (1613 KB), $158/year of PUTs, ack after about 1.03s to 2.03s
	// query over 1 day(s), one block per segment: 26 segments, 104 GETs cold ($0.00004), 26 warm; 120ms cold, 30ms warm at 64 GETs in flight
	// query over 30 day(s), one block per segment: 766 segments, 3064 GETs cold ($0.00123), 766 warm; 1.44s cold, 360ms warm at 64 GETs in flight
}

// TestCostWALBytesPerEvent checks the cost model's WAL bytes per event
// against the benchmark generator's events: their binary form plus the
// length prefix the WAL payload gives each.
func TestCostWALBytesPerEvent(t *testing.T) {
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	const n = 20000
	var total int
	for range n {
		ev := g.Next()
		b := event.AppendBinary(nil, &ev)
		total += len(b) + 2 // uvarint length prefix: 2 bytes for 128..16383
		if len(b) < 128 || len(b) > 16383 {
			t.Fatalf("an event of %d bytes: its prefix is not 2 bytes", len(b))
		}
	}
	got := float64(total) / n
	if math.Abs(got-tenTerabytes.walBytesPerEvent)/got > 0.03 {
		t.Fatalf("generated events take %.1f WAL bytes each; the cost model says %.1f: update it and README", got, tenTerabytes.walBytesPerEvent)
	}
}
