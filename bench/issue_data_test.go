package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/segment"
)

// BenchmarkIssueQueries' data set is the first N events of
// NewGenerator(GeneratorConfig{Seed: 1, Rate: SpreadRate(N)}) — spread over
// 30 days as in issue 15 — appended in batches of issueBatch with SyncNone
// and closed (so sealed). It is cached in
// os.TempDir()/eventlog-bench-issue-<N>-g<fingerprint>-s<segment version>:
// the fingerprint hashes the JSON of the generator's first events, so a
// change of the generator gets a new data set, and a new segment format
// gets one written in it (an old cache would measure the old format). As
// with BenchmarkFind's cache, the build runs in <cache>.building, the
// marker file is written last, and deleting the directory forces a
// rebuild.

const (
	issueDataMarker = "bench-issue.json"
	// issueBatch is the batch size of issue 15's loads (_bulk of 10,000).
	issueBatch = 10_000
	// The objects the Find cases pick, by how many events reference them
	// as primary in their space: issue 15's rare (2), mid (991) objects.
	rareObjectTarget = 2
	midObjectTarget  = 991
	// failureSpace is the space of the failures case: a non-default one.
	failureSpace = "security"
	// countProvider is the provider of the count-by-action case.
	countProvider = "alerting"
)

// issueData describes a cached data set and the answers its queries must
// give, counted from the generated events as they were appended.
type issueData struct {
	Events int
	// Rare, Mid and Frequent are saved objects (type, id, space) and the
	// number of events holding a primary ref to each.
	Rare, Mid, Frequent refCount
	// MidByID counts the events with any ref whose id is Mid's.
	MidByID int
	// SpaceFailures counts the failure events in failureSpace
	// (event.Event.InSpace).
	SpaceFailures int
	// DayStart and DayEnd (inclusive) bound the second UTC day of the data
	// set; DayActions counts countProvider's events in it by action.
	DayStart, DayEnd time.Time
	DayActions       map[string]int
	BuildSeconds     float64
}

// generatorFingerprint hashes the JSON of the generator's first events.
func generatorFingerprint(n int) uint32 {
	g := NewGenerator(GeneratorConfig{Seed: 1, Rate: SpreadRate(int64(n))})
	h := fnv.New32a()
	var buf []byte
	for range 64 {
		e := g.Next()
		buf = event.AppendJSON(buf[:0], &e)
		h.Write(buf)
	}
	return h.Sum32()
}

func issueDataDir(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("eventlog-bench-issue-%d-g%08x-s%d", n, generatorFingerprint(n), segment.Version))
}

// loadIssueData returns the data set of n events and its data directory,
// building it first unless a complete one is cached.
func loadIssueData(n int) (d issueData, dbDir string, built bool, err error) {
	dir := issueDataDir(n)
	d, dbDir, built, err = loadDataSet(dir, issueDataMarker, func(dbDir string) (issueData, error) {
		start := time.Now()
		d, err := buildIssueData(dbDir, n)
		d.BuildSeconds = time.Since(start).Seconds()
		return d, err
	})
	if err == nil && d.Events != n {
		err = fmt.Errorf("%s holds %d events, want %d: delete it to rebuild", dir, d.Events, n)
	}
	return d, dbDir, built, err
}

func buildIssueData(dbDir string, n int) (issueData, error) {
	db, err := eventlog.Open(dbDir, eventlog.Options{Sync: eventlog.SyncNone})
	if err != nil {
		return issueData{}, err
	}
	st := newIssueStats()
	err = func() error {
		if err := registerAll(db); err != nil {
			return err
		}
		return fillBatches(db, NewGenerator(GeneratorConfig{Seed: 1, Rate: SpreadRate(int64(n))}), n, issueBatch, st.observe)
	}()
	if err = errors.Join(err, db.Close()); err != nil {
		return issueData{}, err
	}
	return st.result(n), nil
}

// fillBatches appends the next n events of g to db in batches of size,
// calling observe with each event first.
func fillBatches(db *eventlog.DB, g *Generator, n, size int, observe func(*event.Event)) error {
	batch := make([]event.Event, size)
	for done := 0; done < n; {
		evs := batch[:min(size, n-done)]
		g.Fill(evs)
		for i := range evs {
			observe(&evs[i])
		}
		if _, err := db.Append(context.Background(), evs...); err != nil {
			return fmt.Errorf("append events %d..%d: %w", done, done+len(evs)-1, err)
		}
		done += len(evs)
		if done%500_000 == 0 {
			fmt.Fprintf(os.Stderr, "bench: building the issue data set: %d/%d events\n", done, n)
		}
	}
	return nil
}

// issueStats counts the expected answers while the data set is generated.
type issueStats struct {
	primary       map[refKey]int  // events with a primary ref to the object
	byID          map[string]int  // events with any ref of the id
	spaceFailures int             // failures in failureSpace
	dayLo, dayHi  int64           // the second day, inclusive
	dayActions    map[string]int  // countProvider's events that day by action
	seen          map[string]bool // scratch: ids of one event
}

func newIssueStats() *issueStats {
	lo := DefaultStart.Add(24 * time.Hour).UnixNano()
	return &issueStats{primary: map[refKey]int{}, byID: map[string]int{}, dayActions: map[string]int{},
		dayLo: lo, dayHi: lo + int64(24*time.Hour) - 1, seen: map[string]bool{}}
}

func (s *issueStats) observe(e *event.Event) {
	refs := e.Kibana.SavedObjects
	clear(s.seen)
	for i, r := range refs {
		if !s.seen[r.ID] {
			s.seen[r.ID] = true
			s.byID[r.ID]++
		}
		if !r.Primary() {
			continue
		}
		k := refKey{r.Type, r.ID, r.Space()}
		if !slices.ContainsFunc(refs[:i], func(o event.SavedObject) bool {
			return o.Primary() && refKey{o.Type, o.ID, o.Space()} == k
		}) {
			s.primary[k]++
		}
	}
	if e.Event.Outcome == "failure" && e.InSpace(failureSpace) {
		s.spaceFailures++
	}
	if ts := e.Timestamp.UnixNano(); e.Event.Provider == countProvider && ts >= s.dayLo && ts <= s.dayHi {
		s.dayActions[e.Event.Action]++
	}
}

func (s *issueStats) result(n int) issueData {
	d := issueData{Events: n, SpaceFailures: s.spaceFailures, DayActions: s.dayActions,
		DayStart: time.Unix(0, s.dayLo).UTC(), DayEnd: time.Unix(0, s.dayHi).UTC()}
	all := make([]refCount, 0, len(s.primary))
	for k, c := range s.primary {
		all = append(all, refCount{k.Type, k.ID, k.Space, c})
	}
	slices.SortFunc(all, func(a, b refCount) int {
		return strings.Compare(a.Type+"\x00"+a.ID+"\x00"+a.Space, b.Type+"\x00"+b.ID+"\x00"+b.Space)
	})
	for _, r := range all {
		if d.Rare.Count == 0 || dist(r.Count, rareObjectTarget) < dist(d.Rare.Count, rareObjectTarget) {
			d.Rare = r
		}
		if d.Mid.Count == 0 || dist(r.Count, midObjectTarget) < dist(d.Mid.Count, midObjectTarget) {
			d.Mid = r
		}
		if r.Count > d.Frequent.Count {
			d.Frequent = r
		}
	}
	d.MidByID = s.byID[d.Mid.ID]
	return d
}
