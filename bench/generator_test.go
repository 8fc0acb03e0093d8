package bench

import (
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

func generate(cfg GeneratorConfig, n int) []event.Event {
	events := make([]event.Event, n)
	NewGenerator(cfg).Fill(events)
	return events
}

func marshalAll(t *testing.T, events []event.Event) [][]byte {
	t.Helper()
	out := make([][]byte, len(events))
	for i := range events {
		b, err := json.Marshal(&events[i])
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		out[i] = b
	}
	return out
}

func TestGeneratorDeterministic(t *testing.T) {
	cfg := GeneratorConfig{Seed: 42}
	a, b := generate(cfg, 10_000), generate(cfg, 10_000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same config gave different events")
	}
	if !reflect.DeepEqual(marshalAll(t, a), marshalAll(t, b)) {
		t.Fatal("same config gave different JSON")
	}
	g := NewGenerator(cfg)
	for i := range 100 {
		if e := g.Next(); !reflect.DeepEqual(e, a[i]) {
			t.Fatalf("Next and Fill differ at event %d", i)
		}
	}
	if reflect.DeepEqual(a, generate(GeneratorConfig{Seed: 43}, 10_000)) {
		t.Fatal("different seeds gave the same events")
	}
}

// TestGeneratorEventsDecode checks that generated events are valid documents
// that survive the store's JSON decoder unchanged.
func TestGeneratorEventsDecode(t *testing.T) {
	events := generate(GeneratorConfig{Seed: 7}, 5_000)
	for i, b := range marshalAll(t, events) {
		got, err := event.Decode(b, event.DefaultLimits())
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, b)
		}
		if !reflect.DeepEqual(got, events[i]) {
			t.Fatalf("event %d does not round-trip:\n%s", i, b)
		}
	}
}

func TestKindWeights(t *testing.T) {
	sum := 0
	for _, k := range kinds {
		sum += k.weight
	}
	if sum != weightTotal {
		t.Fatalf("kind weights sum to %d, want %d", sum, weightTotal)
	}
}

// within fails unless got is within tol of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4g, want %.4g ± %.2g", what, got, want, tol)
	} else {
		t.Logf("%s = %.4g (want %.4g ± %.2g)", what, got, want, tol)
	}
}

// share returns n/total.
func share(n, total int) float64 { return float64(n) / float64(total) }

func TestGeneratorProportions(t *testing.T) {
	const n = 100_000
	events := generate(GeneratorConfig{Seed: 1}, n)
	outcomes := map[string]int{}
	perKind := map[string]int{}
	for i := range events {
		e := &events[i]
		outcomes[e.Event.Outcome]++
		perKind[e.Event.Provider+"/"+e.Event.Action]++
		checkConsistent(t, i, e)
	}
	within(t, "success share", share(outcomes["success"], n), successShare, 0.015)
	within(t, "failure share", share(outcomes["failure"], n), failureShare, 0.005)
	within(t, "unknown share", share(outcomes["unknown"], n), 1-successShare-failureShare, 0.002)
	for _, k := range kinds {
		p := float64(k.weight) / weightTotal
		tol := 5*math.Sqrt(p*(1-p)/n) + 0.0005
		within(t, k.provider+"/"+k.action+" share", share(perKind[k.provider+"/"+k.action], n), p, tol)
	}
	if len(perKind) != len(kinds) {
		t.Errorf("saw %d provider/action pairs, want %d", len(perKind), len(kinds))
	}
}

var levelOf = map[string]string{"success": "info", "failure": "error", "unknown": "warning"}

// checkConsistent checks what every event must satisfy: a registered
// provider/action, a log level matching the outcome, failures explained, a
// start no later than @timestamp, a message and a server.
func checkConsistent(t *testing.T, i int, e *event.Event) {
	t.Helper()
	if !slices.Contains(ProviderActions()[e.Event.Provider], e.Event.Action) {
		t.Fatalf("event %d: unregistered %s/%s", i, e.Event.Provider, e.Event.Action)
	}
	if levelOf[e.Event.Outcome] != e.Log.Level {
		t.Fatalf("event %d: outcome %q with log.level %q", i, e.Event.Outcome, e.Log.Level)
	}
	if e.Event.Outcome == "failure" && (e.Error.Message == "" || e.Event.Reason == "") {
		t.Fatalf("event %d: failure without error.message and event.reason", i)
	}
	if e.Event.Duration != nil && e.Event.Start.UnixNano() > e.Timestamp.UnixNano() {
		t.Fatalf("event %d: starts after its @timestamp", i)
	}
	if e.Message == "" || e.Kibana.ServerUUID == "" {
		t.Fatalf("event %d: no message or server uuid", i)
	}
}

// lateShare returns the fraction of events whose @timestamp is before that
// of an earlier event.
func lateShare(events []event.Event) float64 {
	late, high := 0, int64(math.MinInt64)
	for i := range events {
		ts := events[i].Timestamp.UnixNano()
		if ts < high {
			late++
		}
		high = max(high, ts)
	}
	return share(late, len(events))
}

func TestGeneratorTimestamps(t *testing.T) {
	const n = 100_000
	tests := map[string]struct {
		cfg  GeneratorConfig
		late float64
	}{
		"default":  {GeneratorConfig{Seed: 1}, DefaultOutOfOrder},
		"none":     {GeneratorConfig{Seed: 1, OutOfOrder: -1}, 0},
		"20%":      {GeneratorConfig{Seed: 2, OutOfOrder: 0.2, MaxLateness: time.Second}, 0.2},
		"slow 10%": {GeneratorConfig{Seed: 3, OutOfOrder: 0.1, Rate: 5}, 0.1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			events := generate(tc.cfg, n)
			within(t, "out-of-order share", lateShare(events), tc.late, 0.01)
			cfg := tc.cfg.withDefaults()
			if first := events[0].Timestamp.Time(); first.Sub(cfg.Start) > time.Second/time.Duration(cfg.Rate)*20 {
				t.Errorf("first @timestamp %v, want near %v", first, cfg.Start)
			}
			span := highest(events) - cfg.Start.UnixNano()
			gap := float64(span) / n / 1e9
			within(t, "mean gap (s)", gap, 1/cfg.Rate, 0.02/cfg.Rate)
		})
	}
}

func highest(events []event.Event) int64 {
	h := int64(math.MinInt64)
	for i := range events {
		h = max(h, events[i].Timestamp.UnixNano())
	}
	return h
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGeneratorObjectSkew(t *testing.T) {
	const n = 100_000
	cfg := GeneratorConfig{Seed: 1}
	counts := map[string]int{}
	for _, e := range generate(cfg, n) {
		for _, ref := range e.Kibana.SavedObjects {
			if !uuidRE.MatchString(ref.ID) {
				t.Fatalf("saved-object id %q is not a UUID", ref.ID)
			}
			counts[ref.ID]++
		}
	}
	freq := make([]int, 0, len(counts))
	for _, c := range counts {
		freq = append(freq, c)
	}
	slices.Sort(freq)
	top, median := freq[len(freq)-1], freq[len(freq)/2]
	t.Logf("%d distinct ids of %d; top id %d refs, median id %d", len(freq), DefaultObjectPool, top, median)
	if top < 50*median {
		t.Errorf("top id has %d refs, median id %d: want at least 50x", top, median)
	}
	if len(freq) < 500 || len(freq) > DefaultObjectPool/2 {
		t.Errorf("%d distinct ids, want between 500 and %d", len(freq), DefaultObjectPool/2)
	}
}

func TestObjectIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := range 10_000 {
		id := objectID(i)
		if !uuidRE.MatchString(id) || seen[id] {
			t.Fatalf("object %d: id %q malformed or repeated", i, id)
		}
		seen[id] = true
	}
}

// Average JSON size of a generated event: the benchmarks' MB/s rests on it.
const minAvgJSON, maxAvgJSON = 700, 800

func TestGeneratorJSONSize(t *testing.T) {
	avg := averageJSONSize(generate(GeneratorConfig{Seed: 1}, 100_000))
	t.Logf("average JSON size %.1f bytes", avg)
	if avg < minAvgJSON || avg > maxAvgJSON {
		t.Errorf("average JSON size %.1f, want %d to %d", avg, minAvgJSON, maxAvgJSON)
	}
}

func averageJSONSize(events []event.Event) float64 {
	total := 0
	for i := range events {
		b, _ := json.Marshal(&events[i])
		total += len(b)
	}
	return float64(total) / float64(len(events))
}

// BenchmarkGeneratorAt measures making one event, without its JSON.
func BenchmarkGeneratorAt(b *testing.B) {
	g := NewGenerator(GeneratorConfig{Seed: 1, Rate: SpreadRate(DefaultEvents)})
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		_ = g.At(i)
		i++
	}
}

// BenchmarkWorkloadFill measures what the producer of `eventlog bench`
// spends making one batch of 1000 distinct events and measuring their JSON.
func BenchmarkWorkloadFill(b *testing.B) {
	w := GeneratedWorkload(GeneratorConfig{Seed: 1, Rate: SpreadRate(DefaultEvents)})
	batch := make([]event.Event, 1000)
	b.ReportAllocs()
	var first int64
	for b.Loop() {
		w.Fill(batch, first)
		first += int64(len(batch))
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}
