package bench

import "github.com/eventlogdb/eventlog/query"

// SuiteRequest is one of the suite's queries: its name, the route it goes
// to (api/events/_search, _export or _aggregate) and its request.
type SuiteRequest struct {
	Name, Path string
	Req        query.Request
}

// SuiteRequests returns the workload RunSuite generates for n events with
// seed, and the suite's queries over its first n events (the same
// objects, space and day RunSuite picks), without ingesting or checking
// anything: for asking two stores holding those events the same questions
// (a writer and a read-only query node, package tiering's tests).
func SuiteRequests(seed, n int64) (*Workload, []SuiteRequest) {
	w := GeneratedWorkload(GeneratorConfig{Seed: seed, Rate: SpreadRate(n)})
	var out []SuiteRequest
	for _, q := range suiteQueries(expectSuite(w, n)) {
		out = append(out, SuiteRequest{Name: q.Name, Path: q.Path, Req: q.Req})
	}
	return w, out
}
