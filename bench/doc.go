// Package bench generates realistic Kibana event-log traffic and measures the
// store with it.
//
// The Generator produces the mix a busy Kibana writes: rule executions,
// scheduled and executed actions, alert instance transitions, task runs and a
// few security events, with Kibana's messages, saved-object references drawn
// Zipf-skewed from a fixed pool of objects, mostly-successful outcomes,
// log-normal durations and timestamps that advance at a configured rate with a
// fraction arriving late. It is deterministic: the same GeneratorConfig yields
// the same events, byte for byte.
//
// The benchmarks in this package feed pre-generated events to
// eventlog.DB.Append under each sync policy and batch size
// (append_bench_test.go); measure bytes per event on disk and sealing
// throughput (storage_bench_test.go); and time Find over a 10M-event store
// built once and cached under os.TempDir() (find_bench_test.go,
// find_data_test.go). EVENTLOG_BENCH_EVENTS and EVENTLOG_BENCH_FIND_EVENTS
// change the sizes.
package bench
