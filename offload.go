package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// SegmentCacheDir is the directory of a writer's data directory where a
// segment cache (package tiering, --cache-max-bytes) keeps the segments a
// writer offloaded: whole files (NAME.seg) within its bound and the pinned
// part (NAME.pin) of every one. A segment the manifest names that is
// missing from segments/ but whose pinned part is here is offloaded, not
// lost: its whole file is in the object store.
const SegmentCacheDir = "cache"

// ReopenSegments reopens the named live segments through
// Options.OpenSegment and swaps the new readers into the live state; a
// name that is not live (dropped meanwhile) is skipped. Reads already
// running keep the reader they hold until they finish (it is closed with
// its last reference), so a segment can be swapped under a running
// query. A segment registered as damaged is left as it is.
//
// On a writer it offloads: the segment's file in segments/ is removed
// once its new reader is live, since Options.OpenSegment now provides
// it (a segment cache over the object store). Call it only for segments a
// published copy holds (an uploaded segment named by a published
// manifest), never for one that exists only here. Offloaded segments
// open through Options.OpenSegment at the next Open as well. Reopening an
// offloaded segment again (the cache evicted its whole file, or promoted
// it back to one) moves it between a whole local file and ranged reads.
//
// On a read-only store (a query node) it moves a segment between its
// cache's whole file and ranged reads the same way; nothing is removed.
func (db *DB) ReopenSegments(names ...string) error {
	if db.opts.OpenSegment == nil {
		return errors.New("eventlog: reopen segments: the store has no Options.OpenSegment")
	}
	db.readers.RLock() // Close waits for the swap, as for a read
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, name := range names {
		if err := db.reopenSegment(name); err != nil {
			errs = append(errs, fmt.Errorf("eventlog: reopen segment %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// reopenSegment swaps one live segment for a reader Options.OpenSegment
// opens, then removes the writer's local file of it.
func (db *DB) reopenSegment(name string) error {
	if db.liveByName(name) == nil {
		return nil
	}
	// Opened before the lock: it may fetch a pinned part over the network.
	r, err := db.opts.OpenSegment(name)
	if err != nil {
		return err
	}
	// manifestMu orders the swap with replaceSegments (compaction,
	// retention): a segment is either dropped or reopened, never both.
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	old := db.liveByName(name)
	if old == nil || db.isDamaged(name) {
		// Dropped meanwhile, or set aside as damaged: reads reach it
		// through the damage registry, which holds the old reader.
		return r.Close()
	}
	r.ShareDicts(db.dicts)
	s := newLiveSegment(db.opts.FS, old.meta, "", r, db.segmentsMem)
	s.purged.Store(old.purged.Load())
	s.onRemoved = old.onRemoved
	db.stateMu.Lock()
	st := db.state.Load()
	segs := make([]*liveSegment, len(st.segments))
	for i, c := range st.segments {
		if c == old {
			c = s
		}
		segs[i] = c
	}
	db.setStateLocked(&state{active: st.active, frozen: st.frozen, segments: segs, changed: make(chan struct{})})
	db.stateMu.Unlock()
	err = old.release() // the state's reference; running reads keep theirs
	if old.path == "" || db.opts.ReadOnly {
		return err
	}
	// The file's data stays readable through the readers still holding it
	// (the mapping outlives the name); the directory entry goes now.
	if rerr := db.opts.FS.Remove(old.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return errors.Join(err, rerr)
	}
	return errors.Join(err, db.opts.FS.SyncDir(db.segDir()))
}

// isDamaged reports whether segment name is registered as damaged.
func (db *DB) isDamaged(name string) bool {
	for _, d := range db.damage.load() {
		if d.name == name {
			return true
		}
	}
	return false
}

// liveByName returns the live segment named name, nil if none.
func (db *DB) liveByName(name string) *liveSegment {
	for _, s := range db.state.Load().segments {
		if s.meta.Name == name {
			return s
		}
	}
	return nil
}

// Offloaded returns the names of the live segments whose file is not in
// segments/ (read through Options.OpenSegment), in manifest order. On a
// read-only store that is every segment Options.OpenSegment opened.
func (db *DB) Offloaded() []string {
	db.manifestMu.Lock() // replaceSegments renames dropped segments' paths under it
	defer db.manifestMu.Unlock()
	var out []string
	for _, s := range db.state.Load().segments {
		if s.path == "" {
			out = append(out, s.meta.Name)
		}
	}
	return out
}

// offloaded reports whether a writer's segment meta, missing from
// segments/, was offloaded: its pinned part is in the segment cache
// directory of dir.
func offloaded(fsys vfs.FS, dir, name string) bool {
	_, err := fsys.Stat(offloadedPinPath(dir, name))
	return err == nil
}

// offloadedPinPath is where an offloaded segment's pinned part is kept.
func offloadedPinPath(dir, name string) string {
	return filepath.Join(dir, SegmentCacheDir, name[:len(name)-len(filepath.Ext(name))]+".pin")
}

// errOffloaded explains why an offloaded segment cannot be opened: the
// store was opened without the cache that reads it. It does not match
// fs.ErrNotExist: the file is not missing, and repair must not drop it.
func errOffloaded(dir, name string) error {
	return fmt.Errorf("eventlog: segment %s is offloaded to the object store (its pinned part is %s, its file is only in the bucket): open the store with its segment cache (serve --object-store with --cache-max-bytes), or bring it back with eventlog object-store pull",
		name, offloadedPinPath(dir, name))
}

// isOffloaded reports whether the writer's segment at path was offloaded:
// its file is gone from segments/ and the segment cache holds its pinned
// part.
func (db *DB) isOffloaded(path, name string) bool {
	if _, err := db.opts.FS.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return offloaded(db.opts.FS, db.dir, name)
}

// refuseOffloaded fails when the writer's data directory dir has
// offloaded segments (a pinned part in SegmentCacheDir whose file is not
// in segments/): repair would take their missing files for lost events
// and drop them from the manifest, and the uploader would then retire
// them from the bucket too. Pull brings them back first.
func refuseOffloaded(fsys vfs.FS, dir string) error {
	entries, err := fsys.ReadDir(filepath.Join(dir, SegmentCacheDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("eventlog: repair: %w", err)
	}
	// A pin of a segment the manifest dropped since is only waiting for
	// the cache to remove it; one the manifest cannot be read to rule out
	// counts.
	var named map[string]bool
	if m, err := readManifest(fsys, dir); err == nil {
		named = map[string]bool{}
		for _, s := range m.Segments {
			named[s.Name] = true
		}
	}
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".pin")
		if !ok || (named != nil && !named[base+".seg"]) {
			continue
		}
		if _, err := fsys.Stat(filepath.Join(dir, "segments", base+".seg")); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("eventlog: repair: segment %s.seg is offloaded to the object store (%s): repair reads only local files and would drop it; bring the store back whole with eventlog object-store pull first",
				base, filepath.Join(dir, SegmentCacheDir, e.Name()))
		}
	}
	return nil
}
