package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// quarantineDir is where segments that fail their checks at open are moved.
const quarantineDir = "quarantine"

// openSegments reads the manifest, removes what a crash left behind, and
// opens every live segment. A segment with proven damage (a checksum or
// structure failure) is moved to quarantine/ and the store opens without
// it; any other error (EIO, too many open files, a failed mmap) fails the
// open, so a healthy file is never set aside for a passing fault. Every
// segment in quarantine/ is registered as damage (damage.go): reads that
// reach its range say so instead of answering without it.
func (db *DB) openSegments() error {
	m, err := readManifest(db.opts.FS, db.dir)
	if err != nil {
		return err
	}
	db.manifest = m
	tombs := slices.Clone(m.Tombstones) // compiled by decodeManifest
	db.tombs.Store(&tombs)
	if !db.opts.ReadOnly {
		if err := db.removeLeftovers(m); err != nil {
			return err
		}
	}
	var live []*liveSegment
	var kept, setAside []segmentMeta
	for _, meta := range m.Segments {
		s, err := db.openLive(meta)
		if err == nil {
			live = append(live, s)
			kept = append(kept, meta)
			continue
		}
		if !errors.Is(err, segment.ErrCorrupt) {
			for _, s := range live {
				s.release()
			}
			if errors.Is(err, fs.ErrNotExist) {
				// Not proven damage: a file missing from a restore or an
				// unmounted disk must come back, not be forgotten.
				return fmt.Errorf("eventlog: segment %s is listed in the manifest but missing: restore it, or run eventlog repair to drop it: %w", meta.Name, err)
			}
			return fmt.Errorf("eventlog: open segment %s: %w", meta.Name, err)
		}
		db.log.Error("eventlog: damaged segment set aside; the store opens without it", "segment", meta.Name,
			"events", meta.Events, "min_seq", meta.MinSeq, "max_seq", meta.MaxSeq, "err", err)
		if db.opts.ReadOnly {
			setAside = append(setAside, meta) // not moved: registered below
			continue
		}
		if qerr := db.quarantine(meta, err); qerr != nil {
			// Keep it listed (not served), so it is neither lost nor
			// removed as a leftover; the next open tries again.
			db.log.Error("eventlog: could not move damaged segment to quarantine", "segment", meta.Name, "err", qerr)
			kept = append(kept, meta)
		}
	}
	if db.quarantinedMetas, err = quarantinedSegments(db.opts.FS, db.dir); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	db.registerQuarantined(append(setAside, db.quarantinedMetas...))
	st := db.state.Load()
	st.segments = live
	if len(kept) != len(m.Segments) && !db.opts.ReadOnly {
		m2 := m.clone()
		m2.Segments = kept
		if err := writeManifest(db.opts.FS, db.dir, m2); err != nil {
			return err
		}
		db.manifest = m2
	}
	return nil
}

// openLive opens meta's segment: from segments/ of the data directory, or
// through Options.OpenSegment, whose readers have no file of the store's
// (path ""): every segment of a read-only store that sets it, and a
// writer's offloaded segments (ReopenSegments).
func (db *DB) openLive(meta segmentMeta) (*liveSegment, error) {
	path := filepath.Join(db.segDir(), meta.Name)
	if db.opts.OpenSegment != nil && (db.opts.ReadOnly || db.isOffloaded(path, meta.Name)) {
		r, err := db.opts.OpenSegment(meta.Name)
		if err != nil {
			return nil, err
		}
		r.ShareDicts(db.dicts)
		return newLiveSegment(db.opts.FS, meta, "", r, db.segmentsMem), nil
	}
	r, err := segment.Open(path, db.segmentOptions())
	if errors.Is(err, fs.ErrNotExist) && !db.opts.ReadOnly && offloaded(db.opts.FS, db.dir, meta.Name) {
		return nil, errOffloaded(db.dir, meta.Name)
	}
	if err != nil {
		return nil, err
	}
	return newLiveSegment(db.opts.FS, meta, path, r, db.segmentsMem), nil
}

// removeLeftovers deletes temporary files and segment files the manifest
// does not list: a crash between writing a segment and recording it leaves
// one, and its events are still in the WAL.
func (db *DB) removeLeftovers(m *manifest) error {
	entries, err := db.opts.FS.ReadDir(db.segDir())
	if err != nil {
		return fmt.Errorf("eventlog: list segments: %w", err)
	}
	listed := map[string]bool{}
	for _, s := range m.Segments {
		listed[s.Name] = true
	}
	removed := false
	for _, e := range entries {
		name := e.Name()
		if listed[name] || e.IsDir() {
			continue
		}
		if strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".seg") || strings.HasSuffix(name, ".deleting") {
			if err := db.opts.FS.Remove(filepath.Join(db.segDir(), name)); err != nil {
				return fmt.Errorf("eventlog: remove leftover %s: %w", name, err)
			}
			db.log.Info("eventlog: removed leftover file from an interrupted seal", "file", name)
			removed = true
		}
	}
	if removed {
		return db.opts.FS.SyncDir(db.segDir())
	}
	return nil
}

// quarantinedSegments returns the manifest entries (from their sidecars)
// of the segments in quarantine/: a tombstone stays until none of them can
// hold its rows, since repair may bring their rows back. A segment without
// a readable sidecar may hold anything.
func quarantinedSegments(fsys vfs.FS, dir string) ([]segmentMeta, error) {
	entries, err := fsys.ReadDir(filepath.Join(dir, quarantineDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []segmentMeta
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".seg") {
			continue
		}
		side, err := readSidecar(fsys, dir, e.Name())
		if err != nil {
			return nil, err
		}
		if side == nil {
			out = append(out, segmentMeta{Name: e.Name()})
			continue
		}
		out = append(out, side.segmentMeta)
	}
	return out, nil
}

// quarantine moves a damaged segment to quarantine/ and writes its sidecar
// (quarantine/NAME.json: the manifest entry and why), so that repair knows
// the sequence range even when the file's own footer is unreadable.
func (db *DB) quarantine(meta segmentMeta, reason error) error {
	qdir := filepath.Join(db.dir, quarantineDir)
	if err := vfs.MkdirAllDurable(db.opts.FS, qdir, 0o755); err != nil {
		return err
	}
	if err := db.opts.FS.Rename(filepath.Join(db.segDir(), meta.Name), filepath.Join(qdir, meta.Name)); err != nil {
		return err
	}
	err := writeSidecar(db.opts.FS, db.dir, &quarantineSidecar{segmentMeta: meta, Reason: reason.Error(), QuarantinedAt: db.opts.Now().UTC()})
	return errors.Join(err, db.opts.FS.SyncDir(qdir), db.opts.FS.SyncDir(db.segDir()))
}

// dropSegments removes the named segments from the store (see
// replaceSegments). Retention will decide what to drop; this is the
// mechanism.
func (db *DB) dropSegments(names ...string) error {
	_, err := db.replaceSegments(names, nil)
	return err
}

// replaceSegments swaps segments: the manifest first (durably, one atomic
// write), then the live state. Each removed file is renamed to *.deleting
// and deleted by its last reader's release; a crash never brings a removed
// segment back (open removes files the manifest does not list). swapped
// reports whether the swap happened: an error after it only concerns
// removing the old files.
func (db *DB) replaceSegments(remove []string, add []*liveSegment) (swapped bool, err error) {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	drop := map[string]bool{}
	for _, n := range remove {
		drop[n] = true
	}
	m := db.manifest.clone()
	var dropped []segmentMeta
	m.Segments = slices.DeleteFunc(m.Segments, func(s segmentMeta) bool {
		if drop[s.Name] {
			dropped = append(dropped, s)
		}
		return drop[s.Name]
	})
	for _, s := range add {
		m.Segments = append(m.Segments, s.meta)
	}
	db.setRemoving(dropped, true) // before withTombstones: their rows are still on disk
	db.withTombstones(m)
	if err := db.commitManifest(m); err != nil {
		db.setRemoving(dropped, false)
		return false, err
	}
	db.manifest = m
	db.stateMu.Lock()
	db.retireTombstonesLocked(m)
	st := db.state.Load()
	var keep, gone []*liveSegment
	for _, s := range st.segments {
		if drop[s.meta.Name] {
			gone = append(gone, s)
		} else {
			keep = append(keep, s)
		}
	}
	db.setStateLocked(&state{active: st.active, frozen: st.frozen, segments: append(keep, add...), changed: make(chan struct{})})
	db.stateMu.Unlock()
	var errs []error
	for _, s := range gone {
		if s.path == "" {
			// Offloaded: no file here; the segment cache drops its
			// copies once a published manifest stops naming it.
			s.removedDurably = func() { db.setRemoving([]segmentMeta{s.meta}, false) }
			s.obsolete.Store(true)
			errs = append(errs, s.release())
			continue
		}
		deleting := s.path + ".deleting"
		if err := db.opts.FS.Rename(s.path, deleting); err != nil {
			errs = append(errs, err)
		} else {
			s.path = deleting
		}
		s.removedDurably = func() { db.setRemoving([]segmentMeta{s.meta}, false) }
		s.obsolete.Store(true)
		errs = append(errs, s.release())
	}
	return true, errors.Join(errs...)
}

// retireRemoved writes a manifest without the tombstones that only dropped
// files, now durably removed, still kept (purgedIn), so a purge whose
// inputs no reader holds completes when its compaction ends rather than at
// the next manifest write. Maintenance calls it once its merges and drops
// have released their inputs.
func (db *DB) retireRemoved() {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	cur := db.manifest
	if !slices.ContainsFunc(cur.Tombstones, func(t *tombstone) bool { return db.purgedIn(t, cur) }) {
		return
	}
	m := cur.clone()
	db.withTombstones(m)
	if err := db.commitManifest(m); err != nil {
		db.log.Error("eventlog: could not write the manifest that completes a purge; the next manifest write will", "err", err)
		return
	}
	db.manifest = m
	db.stateMu.Lock()
	db.retireTombstonesLocked(m)
	db.stateMu.Unlock()
}

// setRemoving adds the dropped segments metas to db.removing, or takes them
// out once their files are durably gone.
func (db *DB) setRemoving(metas []segmentMeta, add bool) {
	db.removingMu.Lock()
	defer db.removingMu.Unlock()
	if db.removing == nil {
		db.removing = map[string]segmentMeta{}
	}
	for _, m := range metas {
		if add {
			db.removing[m.Name] = m
		} else {
			delete(db.removing, m.Name)
		}
	}
}

// newSegment is a segment file being written, by a seal, a merge or a
// purge's rewrite.
type newSegment struct {
	w          *segment.Writer
	name, path string
}

// createSegment takes the next segment id and starts its file, written
// with the process's encoders, which seals, merges and rewrites share:
// enc (segment.MergeEncoder for merges, SealEntropyEncoder for seals) for
// the postings dictionary and the columns segment.FastColumn and
// EntropyColumn do not name, SealFastEncoder and SealEntropyEncoder for
// theirs; and with the working memory scratch keeps (nil: the segment
// package's pool).
func (db *DB) createSegment(scratch *segment.Scratch, enc *zstd.Encoder) (*newSegment, error) {
	db.manifestMu.Lock()
	id := db.manifest.NextID
	db.manifest.NextID++
	db.manifestMu.Unlock()
	ns := &newSegment{name: segmentName(id)}
	ns.path = filepath.Join(db.segDir(), ns.name)
	w, err := segment.Create(ns.path, segment.WriteOptions{FS: db.opts.FS, Encoder: enc, FastEncoder: db.zfast, EntropyEncoder: db.zentr, Scratch: scratch})
	if err != nil {
		return nil, err // names the file
	}
	ns.w = w
	return ns, nil
}

// finishSegment completes ns's file and opens it as a segment that is not
// live yet, clean of the tombstones up to purged. A file that does not
// open is removed.
func (db *DB) finishSegment(ns *newSegment, purged uint64) (*liveSegment, segment.Info, error) {
	info, err := ns.w.Finish()
	if err != nil {
		return nil, info, err // names the file
	}
	r, err := segment.Open(ns.path, db.segmentOptions())
	if err != nil {
		db.opts.FS.Remove(ns.path)
		return nil, info, err
	}
	meta := metaOf(ns.name, info)
	meta.Purged = purged
	return newLiveSegment(db.opts.FS, meta, ns.path, r, db.segmentsMem), info, nil
}
