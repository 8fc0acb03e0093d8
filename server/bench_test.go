package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// benchLines returns n NDJSON lines of realistic Kibana events.
func benchLines(n int) [][]byte {
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	lines := make([][]byte, n)
	for i := range lines {
		ev := g.Next()
		lines[i] = event.AppendJSON(nil, &ev)
	}
	return lines
}

// benchBodies cuts lines into _bulk bodies of batch lines each.
func benchBodies(lines [][]byte, batch int) [][]byte {
	var bodies [][]byte
	for i := 0; i+batch <= len(lines); i += batch {
		bodies = append(bodies, append(bytes.Join(lines[i:i+batch], []byte("\n")), '\n'))
	}
	return bodies
}

// BenchmarkBulk posts _bulk bodies of realistic events over loopback from
// two concurrent clients, into a DB at each sync policy. One op is one
// request. 200,000 events fill about one head, so about one seal runs
// alongside; longer runs measure sustained ingest, sealing included.
//
//	go test ./server -run '^$' -bench 'Bulk/.*/batch=1000$' -benchtime 200x
//	go test ./server -run '^$' -bench 'Bulk/.*/batch=10000$' -benchtime 20x
func BenchmarkBulk(b *testing.B) {
	const clients = 2
	lines := benchLines(80_000)
	for _, policy := range []eventlog.SyncPolicy{eventlog.SyncAlways, eventlog.SyncNone} {
		for _, batch := range []int{1000, 10_000} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", policy, batch), func(b *testing.B) {
				benchBulk(b, policy, "/api/events/_bulk", benchBodies(lines, batch), batch, clients)
			})
		}
	}
}

// benchBulk posts bodies to the _bulk route at path (the native one, or
// /es's) and reports events/s and CPU per event.
func benchBulk(b *testing.B, policy eventlog.SyncPolicy, path string, bodies [][]byte, batch, clients int) {
	m := NewMetrics()
	db := openBenchDB(b, eventlog.Options{Sync: policy, ObserveFsync: m.ObserveFsync})
	ts := httptest.NewServer(New(db, Config{}, m, nil).Handler())
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	b.SetBytes(int64(total / len(bodies)))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if err := postBulk(client, ts.URL+path, bodies[i%int64(len(bodies))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cputime.Process()-cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "events/s")
	// CPU time of the whole process (server, clients, sealing) per event:
	// unlike events/s, it holds when other processes share the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*batch), "cpu-µs/event")
	st := db.Stats()
	// Segments sealed during the run: sealing shares the CPUs with ingest.
	b.ReportMetric(float64(st.Segments+st.FrozenHeads), "segments")
	if st.LastSeq != uint64(b.N*batch) {
		b.Fatalf("stored %d events, want %d", st.LastSeq, b.N*batch)
	}
}

func postBulk(client *http.Client, url string, body []byte) error {
	resp, err := client.Post(url, ctNDJSON, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer[:min(len(answer), 64)], []byte(`"errors":false`)) {
		return fmt.Errorf("bulk: %d %.300s", resp.StatusCode, answer)
	}
	return nil
}

// BenchmarkDecode compares event.Decode, which _bulk uses, with
// encoding/json on the same realistic lines. encoding/json cannot decode
// into event.Event itself: Date, StringList and Duration have no
// UnmarshalJSON, so Unmarshal reports a type error for them and leaves
// them empty (it still parses the whole document, which is what is timed).
// "json.Unmarshal/mirror" decodes into a struct of the same shape and tags
// whose dates are strings and lists and durations any, which it fills
// completely.
//
//	go test ./server -run '^$' -bench Decode
func BenchmarkDecode(b *testing.B) {
	lines := benchLines(10_000)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	mirror := mirrorType(reflect.TypeFor[event.Event]())
	cases := []struct {
		name   string
		decode func(line []byte) error
	}{
		{"event.Decode", func(line []byte) error {
			_, err := event.Decode(line, event.Limits{})
			return err
		}},
		{"json.Unmarshal/event.Event", func(line []byte) error {
			var ev event.Event
			err := json.Unmarshal(line, &ev)
			if _, ok := err.(*json.UnmarshalTypeError); ok {
				return nil // expected: see above
			}
			return err
		}},
		{"json.Unmarshal/mirror", func(line []byte) error {
			return json.Unmarshal(line, reflect.New(mirror).Interface())
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.decode(lines[i%len(lines)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}

// mirrorType returns a type with the shape and JSON tags of t in which
// event's own value types become what encoding/json can fill: Date a
// string, StringList and Duration any.
func mirrorType(t reflect.Type) reflect.Type {
	switch t {
	case reflect.TypeFor[event.Date]():
		return reflect.TypeFor[string]()
	case reflect.TypeFor[event.StringList](), reflect.TypeFor[*event.Duration]():
		return reflect.TypeFor[any]()
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := make([]reflect.StructField, t.NumField())
		for i := range fields {
			f := t.Field(i)
			fields[i] = reflect.StructField{Name: f.Name, Type: mirrorType(f.Type), Tag: f.Tag}
		}
		return reflect.StructOf(fields)
	case reflect.Slice:
		return reflect.SliceOf(mirrorType(t.Elem()))
	}
	return t
}

// openBenchDB opens a store in a temporary directory with opts, closed
// when b ends, with the realistic generator's providers and actions
// registered (bench.ProviderActions).
func openBenchDB(b *testing.B, opts eventlog.Options) *eventlog.DB {
	b.Helper()
	db, err := eventlog.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for p, acts := range bench.ProviderActions() {
		if err := db.RegisterProviderActions(p, acts...); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
