package eventlog

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// powerCutRuns is how many workloads TestPowerCut runs: 25 by default
// (a few hundred cuts), more with EVENTLOG_POWERCUT_RUNS=N.
func powerCutRuns(t *testing.T) int {
	n := 25
	if s := os.Getenv("EVENTLOG_POWERCUT_RUNS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("EVENTLOG_POWERCUT_RUNS: %v", err)
		}
		n = v
	}
	return n
}

// TestPowerCut drives a store on a vfs.Strict file system through random
// appends, seals, compactions, deletes, retention drops, repairs and
// reopens, and
// cuts power at random operations — inside seals, merges, manifest swaps
// and WAL checkpoints alike — keeping at each cut only what had been
// fsynced (file data and directory entries). Each cut is reopened and
// checked against what had been acknowledged when it happened: every
// acknowledged event present exactly once at its sequence number, no event
// of an acknowledged delete back, no orphan file, Verify clean. kill -9
// keeps the page cache, so only this test sees a missing or misordered
// fsync. The seed of each run is printed on failure.
func TestPowerCut(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	cuts := 0
	for run := range powerCutRuns(t) {
		s := seed + uint64(run)
		t.Run(fmt.Sprint(s), func(t *testing.T) { cuts += powerCutRun(t, s) })
		if t.Failed() {
			t.Fatalf("seed %d failed", s)
		}
	}
	t.Logf("%d power cuts checked", cuts)
}

// powerCut is the tree a cut left and what was acknowledged at that moment.
type powerCut struct {
	dir  string
	op   string
	want map[uint64]string // acknowledged seq → message
	gone map[string]bool   // messages of events an acknowledged delete hid
}

// powerCutModel is what the workload had acknowledged. Old events may be
// dropped by retention and marked ones by a delete whose answer came after
// a cut, so neither is wanted.
type powerCutModel struct {
	mu     sync.Mutex
	want   map[uint64]string
	marked map[uint64]string
	gone   map[string]bool
}

func (m *powerCutModel) appended(res Appended, batch []Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range batch {
		switch {
		case e.Labels["old"] != "":
		case e.Labels["del"] != "":
			m.marked[res.Seq(i)] = e.Message
		default:
			m.want[res.Seq(i)] = e.Message
		}
	}
}

func (m *powerCutModel) deleted(res DeleteResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for seq, msg := range m.marked {
		if seq < res.Seq {
			m.gone[msg] = true
			delete(m.marked, seq)
		}
	}
}

func (m *powerCutModel) snapshot(dir, op string) powerCut {
	m.mu.Lock()
	defer m.mu.Unlock()
	return powerCut{dir: dir, op: op, want: maps.Clone(m.want), gone: maps.Clone(m.gone)}
}

// powerCutRun runs one workload, cutting power at random operations, and
// checks every cut. It returns how many cuts it checked.
func powerCutRun(t *testing.T, seed uint64) int {
	base := t.TempDir()
	live := filepath.Join(base, "live")
	strict, err := vfs.NewStrict(vfs.OS{}, live)
	if err != nil {
		t.Fatal(err)
	}
	m := &powerCutModel{want: map[uint64]string{}, marked: map[uint64]string{}, gone: map[string]bool{}}
	var cuts []powerCut
	cutRand := rand.New(rand.NewPCG(seed, 7)) // used under strict's lock only
	strict.OnOp(func(op vfs.Op, path string, n int) {
		p := 0.12
		if op == vfs.OpWrite {
			p = 0.01
		}
		if len(cuts) >= 12 || cutRand.Float64() >= p {
			return
		}
		dir := filepath.Join(base, fmt.Sprintf("cut-%d", n))
		var tear *rand.Rand
		if cutRand.IntN(2) == 0 {
			tear = rand.New(rand.NewPCG(seed, uint64(n)))
		}
		if err := strict.CrashCloneLocked(dir, tear); err != nil {
			t.Errorf("crash clone at op %d: %v", n, err)
			return
		}
		rel, _ := filepath.Rel(live, path)
		cuts = append(cuts, m.snapshot(dir, fmt.Sprintf("op %d (%s %s, torn %v)", n, op, rel, tear != nil)))
	})
	powerCutWorkload(t, live, strict, m, rand.New(rand.NewPCG(seed, 5)))
	for _, c := range cuts {
		t.Logf("cut before %s: %d acknowledged events, %d deleted", c.op, len(c.want), len(c.gone))
		checkIntegrityCut(t, c)
		checkRebuiltStore(t, c, rand.New(rand.NewPCG(seed, uint64(len(c.want)))))
		checkCrashStore(t, c.dir, c.want, c.gone, "a power cut before "+c.op)
		if t.Failed() {
			t.Fatalf("cut before %s failed", c.op)
		}
	}
	return len(cuts)
}

// powerCutWorkload appends, rolls, compacts, deletes, applies retention,
// repairs and reopens at random, recording what was acknowledged in m.
func powerCutWorkload(t *testing.T, dir string, fsys vfs.FS, m *powerCutModel, r *rand.Rand) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{AllowUnregistered: true, Sync: SyncAlways, SegmentMaxBytes: 6 << 10, WALMaxFileBytes: 16 << 10,
		MaintenanceInterval: -1, CompactionBytesPerSecond: -1, CompactionCPUShare: 1,
		RetentionMaxAge: 30 * 24 * time.Hour, Now: func() time.Time { return now }, FS: fsys, Integrity: true}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for k, step := 0, 0; step < 40; step++ {
		switch x := r.IntN(100); {
		case x < 55:
			batch := powerCutBatch(r, k, now)
			k += len(batch)
			res, err := db.Append(ctx, batch...)
			must("append", err)
			m.appended(res, batch)
			if r.IntN(4) == 0 {
				_, err := db.SignHead()
				must("sign head", err)
			}
		case x < 65:
			must("roll", db.Roll(ctx))
		case x < 77:
			_, err := db.Compact(ctx)
			must("compact", err)
		case x < 87:
			res, err := db.Delete(ctx, DeleteRequest{Filter: "labels.del:yes"})
			must("delete", err)
			m.deleted(res)
		case x < 92:
			_, err := db.ApplyRetention(ctx)
			must("retention", err)
		case x < 96: // repair runs on a stopped store; on a healthy one it rewrites the manifest
			must("close", db.Close())
			_, err := Repair(dir, RepairOptions{FS: fsys, SkipLiveCheck: r.IntN(2) == 0})
			must("repair", err)
			db, err = Open(dir, opts)
			must("reopen", err)
		default:
			must("close", db.Close())
			db, err = Open(dir, opts)
			must("reopen", err)
		}
	}
}

// powerCutBatch makes 1–15 distinct events: a third marked for deletion,
// one in eight old enough for retention to drop.
func powerCutBatch(r *rand.Rand, k int, now time.Time) []Event {
	batch := make([]Event, 1+r.IntN(15))
	for i := range batch {
		e := &batch[i]
		*e = ev("p", "a", "")
		e.Timestamp = ts(now.Add(-time.Duration(r.IntN(3600)) * time.Second).Format(time.RFC3339Nano))
		e.Message = fmt.Sprintf("e%d", k+i)
		e.Labels = map[string]string{"pad": strings.Repeat("x", r.IntN(400))}
		switch r.IntN(24) {
		case 0, 1, 2:
			e.Labels["old"] = "yes"
			e.Timestamp = ts(now.Add(-90 * 24 * time.Hour).Format(time.RFC3339Nano))
		case 3, 4, 5, 6, 7, 8, 9, 10:
			e.Labels["del"] = "yes"
		}
	}
	return batch
}

// checkRebuiltStore copies the tree a cut left, damages its MANIFEST (and
// at random MANIFEST.prev too), repairs it and checks it as a reopened cut:
// the rebuilt manifest loses nothing acknowledged, lists nothing twice and
// brings back no deleted event (issue 13: manifest recovery).
func checkRebuiltStore(t *testing.T, c powerCut, r *rand.Rand) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(c.dir, manifestFile)); err != nil {
		return // cut before the first manifest: nothing to rebuild
	}
	dir := c.dir + "-rebuilt"
	if err := os.CopyFS(dir, os.DirFS(c.dir)); err != nil {
		t.Fatal(err)
	}
	damaged := []string{manifestFile}
	if _, err := os.Stat(filepath.Join(dir, manifestPrevFile)); err == nil && r.IntN(2) == 0 {
		damaged = append(damaged, manifestPrevFile)
	}
	for _, f := range damaged {
		corruptions["flip bit"](t, filepath.Join(dir, f))
	}
	rep, err := Repair(dir, RepairOptions{})
	after := fmt.Sprintf("a power cut before %s and a rebuild of %v", c.op, damaged)
	if err != nil || rep.Manifest == nil || rep.Manifest.ReadOnly != "" {
		t.Fatalf("after %s: repair: %v (%+v)", after, err, rep)
	}
	checkCrashStore(t, dir, c.want, c.gone, after)
}
