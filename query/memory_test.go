package query

import (
	"errors"
	"testing"
)

// TestWorkingSetFollowsTheRequest checks WorkingSet against what Execute
// keeps: a bigger page needs more, and so does an aggregation; a count
// without hits needs no page; a request that does not compile fails as
// Execute does.
func TestWorkingSetFollowsTheRequest(t *testing.T) {
	ws := func(req Request, opts Options) int64 {
		t.Helper()
		n, err := WorkingSet(req, opts)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	small, big := ws(Request{PerPage: 10}, Options{}), ws(Request{PerPage: 1000}, Options{})
	if big-small < 990*pageEventBytes {
		t.Fatalf("990 more page events add %d bytes, want at least %d", big-small, 990*pageEventBytes)
	}
	count := ws(Request{PerPage: 1000}, Options{NoHits: true})
	if count >= small {
		t.Fatalf("a count without hits needs %d, a page of 10 %d", count, small)
	}
	aggs := ws(Request{Aggs: map[string]Agg{"a": {Terms: &TermsAgg{Field: "event.action"}}}}, Options{NoHits: true})
	if aggs < count+aggStateBytes {
		t.Fatalf("an aggregation needs %d, a count %d: want at least %d more", aggs, count, aggStateBytes)
	}
	if _, err := WorkingSet(Request{Filter: "event.action:("}, Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unparsable filter: %v, want ErrInvalid", err)
	}
}
