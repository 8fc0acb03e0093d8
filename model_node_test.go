package eventlog

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"pgregory.net/rapid"
)

// The node action of TestModel: a read-only store following the
// writer's published state, as a query node follows the bucket (package
// tiering carries the same pieces through it: the MANIFEST bytes, the
// segments it names, registry.json, PSEUDONYMS and HOLDS, the retention
// policy and the writer's clock), swapped in with Reload. Once the writer
// has sealed everything, the node must answer every query and find as the
// model says — the writer's answers, deletes, holds and retention
// included — and as the writer does, byte for byte.

// modelNode is the follower's side of a model run.
type modelNode struct {
	dir string
	db  *DB
	// now is the node's own clock: stuck at the run's start, so only the
	// writer's published clock can make the node expire what the writer
	// expires.
	now time.Time
}

// node seals the writer's head, installs its state in the node's
// directory, reloads the node and checks its answers.
func (m *modelRun) node(rt *rapid.T) {
	m.quiesce(rt)
	c := m.db.ManifestCommit()
	m.installNode(rt, c)
	if m.follower.db == nil {
		m.openNode(rt, c)
	} else if err := m.follower.db.Reload(c.Retention); err != nil {
		rt.Fatalf("node reload: %v", err)
	}
	m.compareNode(rt)
	writer := m.db
	m.db = m.follower.db
	defer func() { m.db = writer }()
	m.query(rt)
	m.find(rt)
}

// quiesce seals the writer's head and applies the retention due at its
// clock until a pass leaves nothing unsealed. A seal wakes the background
// maintenance, which may expire the segment just sealed and log the drop
// into the head, where a node never sees it: retention run here first
// (maintenance runs one at a time) leaves that run nothing to drop, and
// the drops it logs itself are sealed by the next pass.
func (m *modelRun) quiesce(rt *rapid.T) {
	for pass := 0; ; pass++ {
		if err := m.db.Roll(ctx); err != nil {
			rt.Fatalf("roll: %v", err)
		}
		if _, err := m.db.ApplyRetention(ctx); err != nil {
			rt.Fatalf("retention: %v", err)
		}
		if m.db.Stats().HeadEvents == 0 {
			return
		}
		if pass == 4 {
			rt.Fatalf("the writer's head still holds %d events after %d passes of roll and retention", m.db.Stats().HeadEvents, pass+1)
		}
	}
}

// openNode opens the node's store, read-only, with the published policy
// and a clock floored at the writer's.
func (m *modelRun) openNode(rt *rapid.T, c ManifestCommit) {
	opts := Options{ReadOnly: true, AllowUnregistered: true, Now: m.nodeClock}
	c.Retention.Apply(&opts)
	db, err := Open(m.follower.dir, opts)
	if err != nil {
		rt.Fatalf("open node: %v", err)
	}
	m.follower.db = db
}

// nodeClock is the node's clock: its own, floored at the writer's clock
// when its state was installed.
func (m *modelRun) nodeClock() time.Time {
	if floor := time.Unix(0, m.nodeFloor.Load()); floor.After(m.follower.now) {
		return floor.UTC()
	}
	return m.follower.now
}

// installNode copies what a bucket manifest carries of c into the node's
// directory: the segments (linked: segment files never change), the small
// files (removed when the writer has none), then the MANIFEST.
func (m *modelRun) installNode(rt *rapid.T, c ManifestCommit) {
	dir := m.follower.dir
	if err := os.MkdirAll(filepath.Join(dir, "segments"), 0o755); err != nil {
		rt.Fatal(err)
	}
	for _, s := range c.Segments {
		dst := filepath.Join(dir, "segments", s.Name)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := os.Link(s.Path, dst); err != nil {
			rt.Fatalf("install segment %s: %v", s.Name, err)
		}
	}
	for _, name := range []string{registryFile, pseudonymsFile, holdsFile} {
		data, err := os.ReadFile(filepath.Join(m.dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err = os.Remove(filepath.Join(dir, name))
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		case err == nil:
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			rt.Fatalf("install %s: %v", name, err)
		}
	}
	if err := InstallManifest(dir, c.Data); err != nil {
		rt.Fatalf("install manifest: %v", err)
	}
	m.nodeFloor.Store(c.Clock.UnixNano())
}

// compareNode runs one generated query on the writer and on the node and
// requires the same answer, aggregations included.
func (m *modelRun) compareNode(rt *rapid.T) {
	req := genQuery(rt)
	req.PerPage = rapid.IntRange(1, 20).Draw(rt, "node_per_page")
	w, werr := m.db.Query(ctx, req)
	n, nerr := m.follower.db.Query(ctx, req)
	if (werr == nil) != (nerr == nil) {
		rt.Fatalf("query %+v: writer %v, node %v", req, werr, nerr)
	}
	wj, _ := json.Marshal(w)
	nj, _ := json.Marshal(n)
	if string(wj) != string(nj) {
		rt.Fatalf("query %+v:\nwriter %s\nnode   %s", req, wj, nj)
	}
}
