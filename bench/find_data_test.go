package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkFind's data set is the first N events of
// NewGenerator(GeneratorConfig{Seed: 1}), appended in batches of fillBatch
// with SyncNone and closed (so sealed). Building 10M events takes minutes, so
// it is built once and cached in os.TempDir()/eventlog-bench-find-<N>-seed1:
//
//	db/              the data directory
//	bench-find.json  findData: facts gathered while building, and the
//	                 expected answers; written last, it marks the cache
//	                 complete
//
// A build runs in <cache>.building and is renamed into place when complete,
// so an interrupted build is never mistaken for a data set. Delete the cache
// directory to force a rebuild (needed after a change of the engine's file
// formats: a cache the engine cannot open fails the benchmark).

const findDataMarker = "bench-find.json"

// The provider/action pair and the rare id's target count of the Find cases.
const (
	windowProvider = "alerting"
	windowAction   = "execute"
	rareTarget     = 5
)

// refCount is a saved object and the number of events referencing it (any
// rel), as a RefFilter with PrimaryOnly false counts them.
type refCount struct {
	Type, ID, Space string
	Count           int
}

// findData describes a cached data set.
type findData struct {
	Events       int
	JSONBytes    int64
	MinTS, MaxTS time.Time
	// Rare is the object referenced closest to rareTarget times (ties: the
	// smallest type, then id); Frequent the most referenced one.
	Rare, Frequent refCount
	// WindowStart and WindowEnd (inclusive) are the UTC day of the
	// generator's start; WindowMatches counts the windowProvider/
	// windowAction events in it.
	WindowStart, WindowEnd time.Time
	WindowMatches          int
	BuildSeconds           float64
}

// findDataDir is the cache directory of the data set of n events.
func findDataDir(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("eventlog-bench-find-%d-seed1", n))
}

// loadFindData returns the data set of n events and its data directory,
// building it first unless a complete one is cached; built reports whether
// it was.
func loadFindData(n int) (d findData, dbDir string, built bool, err error) {
	dir := findDataDir(n)
	d, dbDir, built, err = loadDataSet(dir, findDataMarker, func(dbDir string) (findData, error) {
		start := time.Now()
		d, err := buildFindData(dbDir, n)
		d.BuildSeconds = time.Since(start).Seconds()
		return d, err
	})
	if err == nil && d.Events != n {
		err = fmt.Errorf("%s holds %d events, want %d: delete it to rebuild", dir, d.Events, n)
	}
	return d, dbDir, built, err
}

// buildFindData appends the data set to a new DB in dbDir and closes it.
func buildFindData(dbDir string, n int) (findData, error) {
	db, err := eventlog.Open(dbDir, eventlog.Options{Sync: eventlog.SyncNone})
	if err != nil {
		return findData{}, err
	}
	st := newFindStats(n)
	jsonBytes, err := func() (int64, error) {
		if err := registerAll(db); err != nil {
			return 0, err
		}
		return fill(db, NewGenerator(GeneratorConfig{Seed: 1}), n, st.observe)
	}()
	if err = errors.Join(err, db.Close()); err != nil {
		return findData{}, err
	}
	return st.result(jsonBytes), nil
}

// refKey identifies a saved object as a RefFilter does.
type refKey struct{ Type, ID, Space string }

// findStats gathers findData while the data set is generated.
type findStats struct {
	n, seen       int
	refs          map[refKey]int
	minTS, maxTS  int64
	lo, hi        int64 // the window, inclusive
	windowMatches int
}

func newFindStats(n int) *findStats {
	lo := DefaultStart.UnixNano()
	return &findStats{n: n, refs: map[refKey]int{}, minTS: 1<<63 - 1, maxTS: -1 << 63,
		lo: lo, hi: lo + int64(24*time.Hour) - 1}
}

func (s *findStats) observe(e *event.Event, _ int) {
	ts := e.Timestamp.UnixNano()
	s.minTS, s.maxTS = min(s.minTS, ts), max(s.maxTS, ts)
	if e.Event.Provider == windowProvider && e.Event.Action == windowAction && ts >= s.lo && ts <= s.hi {
		s.windowMatches++
	}
	refs := e.Kibana.SavedObjects
	for i, r := range refs {
		k := refKey{r.Type, r.ID, r.Space()}
		if !slices.ContainsFunc(refs[:i], func(o event.SavedObject) bool { return refKey{o.Type, o.ID, o.Space()} == k }) {
			s.refs[k]++
		}
	}
	if s.seen++; s.seen%1_000_000 == 0 {
		fmt.Fprintf(os.Stderr, "bench: building Find data set: %d/%d events\n", s.seen, s.n)
	}
}

func (s *findStats) result(jsonBytes int64) findData {
	d := findData{
		Events: s.seen, JSONBytes: jsonBytes,
		MinTS: time.Unix(0, s.minTS).UTC(), MaxTS: time.Unix(0, s.maxTS).UTC(),
		WindowStart: time.Unix(0, s.lo).UTC(), WindowEnd: time.Unix(0, s.hi).UTC(),
		WindowMatches: s.windowMatches,
	}
	d.Rare, d.Frequent = pickRefs(s.refs)
	return d
}

// pickRefs returns the object referenced closest to rareTarget times and the
// most referenced one, breaking ties by type, then id, so the choice is
// deterministic.
func pickRefs(refs map[refKey]int) (rare, frequent refCount) {
	all := make([]refCount, 0, len(refs))
	for k, c := range refs {
		all = append(all, refCount{k.Type, k.ID, k.Space, c})
	}
	slices.SortFunc(all, func(a, b refCount) int {
		return strings.Compare(a.Type+"\x00"+a.ID, b.Type+"\x00"+b.ID)
	})
	for _, r := range all {
		if rare.Count == 0 || dist(r.Count, rareTarget) < dist(rare.Count, rareTarget) {
			rare = r
		}
		if r.Count > frequent.Count {
			frequent = r
		}
	}
	return rare, frequent
}
