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
// The benchmarks in this package (append_bench_test.go) feed pre-generated
// events to eventlog.DB.Append under each sync policy and batch size.
package bench
