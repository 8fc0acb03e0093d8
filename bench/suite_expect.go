package bench

import (
	"cmp"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// The suite's targets, from issue 15's table at 2M events: a rare object
// has 2 events with a primary ref to it, a mid object 991; the counts of the
// mid one scale with the suite's size.
const (
	suiteRareTarget    = 2
	suiteMidTarget     = 991
	suiteMidAtEvents   = 2_000_000
	suiteNewest        = 100
	suiteDayOffset     = 15 * 24 * time.Hour // the counted day: the middle of the 30-day span
	suiteCountProvider = "alerting"
)

// docKey identifies a document by the SHA-256 of its canonical JSON
// (event.AppendJSON), truncated: what a query returns is checked document
// by document, not only counted.
type docKey [16]byte

// expDoc is one document an answer must hold.
type expDoc struct {
	TS  int64 // @timestamp, Unix ns
	Key docKey
}

// suiteObject is a saved object the suite asks for, and the documents with a
// primary ref to it, by @timestamp.
type suiteObject struct {
	Type, ID, Space string
	Docs            []expDoc
}

// suiteExpect is what the suite's queries must answer over the first N
// events of a workload, computed from the generated events alone.
type suiteExpect struct {
	Events int64
	// Rare, Mid and Frequent are the objects whose primary refs number
	// closest to suiteRareTarget, closest to the scaled suiteMidTarget, and
	// the most.
	Rare, Mid, Frequent suiteObject
	// RareByID are the documents with any ref whose id is Rare.ID.
	RareByID []expDoc
	// Space is the non-default space with the most failures; Failures its
	// failures (event.Event.InSpace).
	Space    string
	Failures []expDoc
	// DayStart and DayEnd bound the counted day (inclusive); Actions counts
	// suiteCountProvider's events in it by event.action.
	DayStart, DayEnd time.Time
	Actions          map[string]int64
}

// objKey is a saved object as query.SavedObjects names it.
type objKey struct{ Type, ID, Space string }

// expectSuite computes the answers over events [0, n) of w, in two passes:
// the first counts what picks the objects and the space, the second
// gathers their documents.
func expectSuite(w *Workload, n int64) *suiteExpect {
	x := &suiteExpect{Events: n, Actions: map[string]int64{}}
	x.DayStart = DefaultStart.Add(suiteDayOffset)
	x.DayEnd = x.DayStart.Add(24*time.Hour - time.Nanosecond)
	primary, failures := map[objKey]int{}, map[string]int{}
	var spaces []string
	eachEvent(w, n, func(e *event.Event) {
		for _, k := range primaryRefs(e) {
			primary[k]++
		}
		if e.Event.Outcome == "failure" {
			spaces = e.Spaces(spaces[:0])
			for _, s := range spaces {
				failures[s]++
			}
		}
	})
	mid := max(suiteRareTarget+1, int(float64(suiteMidTarget)*float64(n)/suiteMidAtEvents+0.5))
	x.Rare, x.Mid, x.Frequent = pickObject(primary, suiteRareTarget), pickObject(primary, mid), pickObject(primary, -1)
	x.Space = pickSpace(failures)
	x.gather(w, n)
	return x
}

// gather is the second pass: the documents of the chosen objects and
// space, and the day's action counts.
func (x *suiteExpect) gather(w *Workload, n int64) {
	lo, hi := x.DayStart.UnixNano(), x.DayEnd.UnixNano()
	objs := []*suiteObject{&x.Rare, &x.Mid, &x.Frequent}
	var js []byte
	eachEvent(w, n, func(e *event.Event) {
		ts := e.Timestamp.UnixNano()
		if e.Event.Provider == suiteCountProvider && ts >= lo && ts <= hi {
			x.Actions[e.Event.Action]++
		}
		var key *docKey
		doc := func() expDoc {
			if key == nil {
				js = event.AppendJSON(js[:0], e)
				h := sha256.Sum256(js)
				key = (*docKey)(h[:16])
			}
			return expDoc{TS: ts, Key: *key}
		}
		for _, k := range primaryRefs(e) {
			for _, o := range objs {
				if k == (objKey{o.Type, o.ID, o.Space}) {
					o.Docs = append(o.Docs, doc())
				}
			}
		}
		if slices.ContainsFunc(e.Kibana.SavedObjects, func(r event.SavedObject) bool { return r.ID == x.Rare.ID }) {
			x.RareByID = append(x.RareByID, doc())
		}
		if e.Event.Outcome == "failure" && e.InSpace(x.Space) {
			x.Failures = append(x.Failures, doc())
		}
	})
}

// eachEvent calls fn with events [0, n) of w in order.
func eachEvent(w *Workload, n int64, fn func(*event.Event)) {
	batch := make([]event.Event, 4096)
	for first := int64(0); first < n; first += int64(len(batch)) {
		b := batch[:min(int64(len(batch)), n-first)]
		w.Fill(b, first)
		for i := range b {
			fn(&b[i])
		}
	}
}

// primaryRefs returns the distinct objects e has a primary ref to: those
// Kibana's _find (query.SavedObjects) finds it by.
func primaryRefs(e *event.Event) []objKey {
	var out []objKey
	for _, r := range e.Kibana.SavedObjects {
		k := objKey{r.Type, r.ID, r.Space()}
		if r.Rel == event.RelPrimary && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// pickObject returns the object whose count is closest to target, or the
// most counted one when target < 0; ties go to the smallest type, then id,
// then space, so the choice is deterministic.
func pickObject(counts map[objKey]int, target int) suiteObject {
	var best objKey
	bestN := -1
	better := func(k objKey, n int) bool {
		if bestN < 0 {
			return true
		}
		if target < 0 {
			return n > bestN
		}
		return dist(n, target) < dist(bestN, target)
	}
	for _, k := range sortedKeys(counts) {
		if n := counts[k]; better(k, n) {
			best, bestN = k, n
		}
	}
	return suiteObject{Type: best.Type, ID: best.ID, Space: best.Space}
}

func sortedKeys(m map[objKey]int) []objKey {
	keys := make([]objKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b objKey) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.ID, b.ID), strings.Compare(a.Space, b.Space))
	})
	return keys
}

// pickSpace returns the non-default space with the most failures (ties:
// the smallest name).
func pickSpace(failures map[string]int) string {
	best := ""
	for s, n := range failures {
		if s == event.DefaultSpace {
			continue
		}
		if best == "" || n > failures[best] || n == failures[best] && s < best {
			best = s
		}
	}
	return best
}

// newest returns the suiteNewest newest of docs, newest first (a copy).
func newest(docs []expDoc) []expDoc {
	out := slices.Clone(docs)
	slices.SortStableFunc(out, func(a, b expDoc) int { return cmp.Compare(b.TS, a.TS) })
	return out[:min(len(out), suiteNewest)]
}

func dist(a, b int) int { return max(a-b, b-a) }
