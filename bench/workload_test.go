package bench

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// sequence returns events first..first+n-1 of w.
func sequence(w *Workload, first int64, n int) []event.Event {
	evs := make([]event.Event, n)
	w.Fill(evs, first)
	return evs
}

func TestWorkloadDeterministic(t *testing.T) {
	cfg := GeneratorConfig{Seed: 9}
	a, b := GeneratedWorkload(cfg), GeneratedWorkload(cfg)
	long := sequence(a, 0, 3500)
	if !reflect.DeepEqual(long, sequence(b, 0, 3500)) {
		t.Fatal("same seed gave different sequences")
	}
	// Event i depends on i alone, not on how the sequence is cut in batches.
	for _, first := range []int64{0, 999, 1000, 2345} {
		if !reflect.DeepEqual(sequence(a, first, 300), long[first:first+300]) {
			t.Fatalf("events from %d differ when filled on their own", first)
		}
	}
	if reflect.DeepEqual(long, sequence(GeneratedWorkload(GeneratorConfig{Seed: 10}), 0, 3500)) {
		t.Fatal("different seeds gave the same sequence")
	}
	if !reflect.DeepEqual(long, generate(cfg, 3500)) {
		t.Fatal("the workload is not the generator's sequence")
	}
}

// fileWorkload returns the workload of events written as NDJSON.
func fileWorkload(t *testing.T, events []event.Event) *Workload {
	t.Helper()
	var in bytes.Buffer
	for i := range events {
		in.Write(event.AppendJSON(nil, &events[i]))
		in.WriteString("\n")
	}
	w, err := ReadWorkload(&in, "in.ndjson", event.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorkloadCyclesMoveTimeOn(t *testing.T) {
	const pool = 1000
	w := fileWorkload(t, generate(GeneratorConfig{Seed: 3}, pool))
	evs := sequence(w, 0, 3*pool)
	for i := pool; i < len(evs); i++ {
		cur, prev := evs[i], evs[i-pool] // copies: their times are cleared below
		for name, d := range map[string][2]event.Date{
			"@timestamp":  {cur.Timestamp, prev.Timestamp},
			"event.start": {cur.Event.Start, prev.Event.Start},
			"event.end":   {cur.Event.End, prev.Event.End},
		} {
			if d[0].IsZero() != d[1].IsZero() || !d[0].IsZero() && (d[0].UnixNano()-d[1].UnixNano() != w.span || d[0].Format() != d[1].Format()) {
				t.Fatalf("event %d: %s %v is not %v moved on by %d ns", i, name, d[0], d[1], w.span)
			}
		}
		cur.Timestamp, prev.Timestamp = event.Date{}, event.Date{}
		cur.Event.Start, cur.Event.End, prev.Event.Start, prev.Event.End = event.Date{}, event.Date{}, event.Date{}, event.Date{}
		if !reflect.DeepEqual(cur, prev) {
			t.Fatalf("event %d differs from event %d in more than its times", i, i-pool)
		}
	}
	// The cycles join up: no more events arrive late than the generator
	// makes late.
	within(t, "out-of-order share over 3 cycles", lateShare(sequence(w, 0, 3*pool)), DefaultOutOfOrder, 0.02)
}

// TestWorkloadDistributions checks the sequence a run appends against the
// configuration the bench flags set.
func TestWorkloadDistributions(t *testing.T) {
	const n = 24_000
	tests := map[string]GeneratorConfig{
		"defaults":          {Seed: 1},
		"late 20%, 1s":      {Seed: 2, OutOfOrder: 0.2, MaxLateness: 1e9},
		"no late, slow":     {Seed: 3, OutOfOrder: -1, Rate: 10},
		"few objects, skew": {Seed: 4, ObjectPool: 1000, ObjectSkew: 2},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			evs := sequence(GeneratedWorkload(cfg), 0, n)
			d := cfg.withDefaults()
			within(t, "out-of-order share", lateShare(evs), d.OutOfOrder, 0.006)
			span := float64(highest(evs)-d.Start.UnixNano()) / 1e9
			within(t, "mean gap (s)", span/n, 1/d.Rate, 0.03/d.Rate)
			outcomes, perKind, objects := map[string]int{}, map[string]int{}, map[string]int{}
			for i := range evs {
				outcomes[evs[i].Event.Outcome]++
				perKind[evs[i].Event.Provider+"/"+evs[i].Event.Action]++
				for _, r := range evs[i].Kibana.SavedObjects {
					objects[r.ID]++
				}
			}
			within(t, "failure share", share(outcomes["failure"], n), failureShare, 0.008)
			for _, k := range kinds {
				p := float64(k.weight) / weightTotal
				within(t, k.provider+"/"+k.action, share(perKind[k.provider+"/"+k.action], n), p, 5*math.Sqrt(p*(1-p)/n)+0.0005)
			}
			if len(objects) > d.ObjectPool {
				t.Errorf("%d distinct objects from a pool of %d", len(objects), d.ObjectPool)
			}
		})
	}
}

func TestReadWorkload(t *testing.T) {
	gen := generate(GeneratorConfig{Seed: 5}, 300)
	var in bytes.Buffer
	for i := range gen {
		in.Write(event.AppendJSON(nil, &gen[i]))
		in.WriteString("\n")
		if i == 10 {
			in.WriteString("  \n") // blank lines are skipped
		}
	}
	w, err := ReadWorkload(&in, "in.ndjson", event.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.events, gen) || w.AvgJSON() != averageJSONSize(gen) || w.Source() != "in.ndjson" {
		t.Fatal("the file's events differ from those written")
	}
	if got := sequence(w, 300, 1)[0].Timestamp.UnixNano() - gen[0].Timestamp.UnixNano(); got != w.span || got <= timeSpan(gen) {
		t.Fatalf("second cycle moved on by %d, span %d", got, w.span)
	}

	bad := map[string]string{
		"bad line":  "{\"message\":\"ok\"}\n\n{\"message\": 3}\n",
		"not json":  "{\"message\":\"ok\"}\nnope\n",
		"empty":     "\n \n",
		"too large": `{"message":"` + strings.Repeat("x", 2000) + "\"}\n",
	}
	wantErr := map[string]string{"bad line": "line 3", "not json": "line 2", "empty": "no events", "too large": "line 1: over 1000 bytes"}
	for name, text := range bad {
		_, err := ReadWorkload(strings.NewReader(text), "f", event.Limits{MaxDocumentBytes: 1000})
		if err == nil || !strings.Contains(err.Error(), wantErr[name]) {
			t.Errorf("%s: error %v, want one with %q", name, err, wantErr[name])
		}
	}
}

func TestWorkloadProviderActions(t *testing.T) {
	w := GeneratedWorkload(GeneratorConfig{Seed: 1})
	all := ProviderActions()
	for p, actions := range w.ProviderActions() {
		for _, a := range actions {
			if !strings.Contains(strings.Join(all[p], ","), a) {
				t.Errorf("%s/%s is not a generator pair", p, a)
			}
		}
	}
	if len(w.ProviderActions()) != len(all) {
		t.Errorf("%d providers in the pool, want %d", len(w.ProviderActions()), len(all))
	}
}
