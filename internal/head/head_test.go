package head

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// row is the test's own record of what it inserted.
type row struct {
	pos   match.Position
	terms []index.Term
}

var termPool = []index.Term{{Field: "f", Value: "a"}, {Field: "f", Value: "b"}, {Field: "g", Value: "x"}, {Field: "g", Value: "y"}, rare}

// rare is on few rows, so queries on it take the collect-and-sort path.
var rare = index.Term{Field: "r", Value: "1"}

// TestFindMatchesBruteForce checks Snapshot.Find — both its tree walk and
// its collect-and-sort path, ascending and descending, resumed and limited,
// with some rows not yet published — against filtering and sorting a plain
// slice.
func TestFindMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var published atomic.Uint64
		h := New(&published)
		n := rapid.IntRange(0, 300).Draw(rt, "rows")
		if rapid.Bool().Draw(rt, "big") {
			n = 200 + n // large enough for selective terms to take the collect path
		}
		var rows []row
		for i := range n {
			r := row{pos: match.Position{TS: int64(rapid.IntRange(0, 50).Draw(rt, "ts")), Seq: uint64(i + 1)}}
			for _, term := range termPool {
				odds := 3
				if term == rare {
					odds = 40
				}
				if rapid.IntRange(0, odds).Draw(rt, "has") == 0 {
					r.terms = append(r.terms, term)
				}
			}
			h.Insert(r.pos.Seq, r.pos.TS, r.terms, []byte{byte(i)}, time.Time{})
			rows = append(rows, r)
		}
		pub := uint64(rapid.IntRange(0, n).Draw(rt, "published"))
		Publish(&published, pub)
		q := match.Query{MinTS: int64(rapid.IntRange(-1, 50).Draw(rt, "min")), MaxTS: int64(rapid.IntRange(-1, 51).Draw(rt, "max")),
			Desc: rapid.Bool().Draw(rt, "desc"), Limit: rapid.IntRange(0, 20).Draw(rt, "limit")}
		for range rapid.IntRange(0, 2).Draw(rt, "groups") {
			q.Groups = append(q.Groups, rapid.SliceOfN(rapid.SampledFrom(termPool), 1, 2).Draw(rt, "group"))
		}
		if rapid.Bool().Draw(rt, "resume") {
			q.After = &match.Position{TS: int64(rapid.IntRange(0, 50).Draw(rt, "after_ts")), Seq: uint64(rapid.IntRange(0, n+1).Draw(rt, "after_seq"))}
		}
		got := h.Snapshot().Find(q)
		want := bruteForce(rows, pub, q)
		if len(got) != len(want) {
			rt.Fatalf("got %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].Position != want[i] {
				rt.Fatalf("row %d: got %+v, want %+v", i, got[i].Position, want[i])
			}
		}
	})
}

func bruteForce(rows []row, pub uint64, q match.Query) []match.Position {
	var out []match.Position
	for _, r := range rows {
		if r.pos.Seq > pub || !q.Includes(r.pos) {
			continue
		}
		ok := true
		for _, g := range q.Groups {
			ok = ok && slices.ContainsFunc(g, func(t index.Term) bool { return slices.Contains(r.terms, t) })
		}
		if ok {
			out = append(out, r.pos)
		}
	}
	slices.SortFunc(out, q.InOrder)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}
