// Package bench generates realistic Kibana event-log traffic and measures the
// store with it.
//
// The Generator produces the mix a busy Kibana writes (issue 15's): rule
// executions, scheduled and executed actions, alert instance transitions,
// task runs, security, cases, reporting, fleet and event-log events, with
// Kibana's messages, one or two saved-object references each drawn
// Zipf-skewed from a fixed pool of objects split by type, mostly-successful
// outcomes, log-normal durations and timestamps that advance at a configured
// rate with a fraction arriving late. Every event is distinct, and event i
// is a pure function of the config and i: the same GeneratorConfig yields
// the same events, byte for byte, in whatever order they are made.
//
// The benchmarks in this package feed pre-generated events to
// eventlog.DB.Append under each sync policy and batch size
// (append_bench_test.go); measure bytes per event on disk and sealing
// throughput (storage_bench_test.go); and time Find over a 10M-event store
// built once and cached under os.TempDir() (find_bench_test.go,
// find_data_test.go). EVENTLOG_BENCH_EVENTS and EVENTLOG_BENCH_FIND_EVENTS
// change the sizes.
//
// RunSuite (suite.go) is issue 15's end-to-end benchmark against a server:
// it ingests generated events over _bulk with concurrent clients until a
// count sees them all, then runs the queries over HTTP, each answer
// checked document by document against what the generator's own events
// say it must be (suite_expect.go, computed before the ingest), and times
// each warm. `eventlog bench http` runs it against an `eventlog serve` it
// starts. StoreLayout (layout.go) sums segment.Reader.Sizes over a data
// directory: where the bytes go, by column family, column, section and
// postings field; Run reports it for the embedded engine.
package bench
