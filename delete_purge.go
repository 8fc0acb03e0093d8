package eventlog

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/compaction"
)

// purge removes the rows of deletes by query from disk, as the first step
// of every compaction run: the WAL and the heads are cleared of them
// (purgeLog), a segment holding none of the rows is marked clean in the
// manifest, and a segment holding some is rewritten alone without them,
// whether or not the compaction policy would pick it. Once every source
// is clean of a tombstone, the manifest forgets it. Callers hold the
// maintenance slot.
func (db *DB) purge(ctx context.Context, res *CompactResult) error {
	tombs := db.tombstonesToApply()
	if len(tombs) == 0 {
		return nil
	}
	if err := db.purgeLog(ctx, tombs); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	clean := map[string]uint64{}
	var rewrite []compaction.Job
	for _, s := range db.state.Load().segments {
		apply := tombs.after(s.purged.Load(), s.meta.MinSeq)
		if len(apply) == 0 || !s.acquire() {
			continue
		}
		rows, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), apply)
		var blocked *roaring.Bitmap
		if err == nil && rows.IsEmpty() {
			blocked, err = blockedRows(ctx, s.r, apply, db.liveHolds())
		}
		s.release()
		switch {
		case err != nil:
			return fmt.Errorf("purge: segment %s: %w", s.meta.Name, err)
		case rows.IsEmpty() && !blocked.IsEmpty():
			// Only rows a hold pins: nothing to rewrite, and not clean
			// either; the purge waits for the release.
		case rows.IsEmpty():
			clean[s.meta.Name] = apply.newest()
		default:
			rewrite = append(rewrite, compaction.Job{Inputs: []string{s.meta.Name}, Bytes: s.meta.Bytes})
		}
	}
	if len(clean) > 0 {
		if err := db.markPurged(clean); err != nil {
			return fmt.Errorf("purge: %w", err)
		}
		res.Purged += len(clean)
	}
	for _, j := range rewrite {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := db.merge(ctx, j, res, false); err != nil {
			return fmt.Errorf("purge: rewrite %s: %w", j.Inputs[0], err)
		}
		db.purgeRewrites.Add(1)
		res.Purged++
	}
	db.retireRemoved() // the rewrites have released their inputs
	return nil
}

// purgeLog gets the tombstones' rows out of the heads and the WAL when
// they may still be there: the WAL's active file is ended, the heads are
// sealed (sealing leaves the rows out), and the checkpoint then deletes
// every log file, the rotated one included, that held them.
func (db *DB) purgeLog(ctx context.Context, tombs tombstones) error {
	var reach uint64 // the highest sequence number a tombstone reaches
	for _, t := range tombs {
		reach = max(reach, t.Bound)
	}
	if first := db.wal.FirstSeq(); db.sealedSeq() >= tombs.newest() && (first == 0 || first > reach) {
		return nil
	}
	if err := db.wal.Rotate(); err != nil {
		return fmt.Errorf("rotate the WAL: %w", err)
	}
	if err := db.Roll(ctx); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if err := db.wal.Checkpoint(db.sealedSeq()); err != nil {
		return fmt.Errorf("checkpoint the WAL: %w", err)
	}
	return nil
}

// sealedSeq is the manifest's SealedSeq.
func (db *DB) sealedSeq() uint64 {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	return db.manifest.SealedSeq
}

// markPurged raises the Purged level of the named segments (checked to
// hold no row of the tombstones up to it) in the manifest, then in memory,
// and forgets the tombstones that completes.
func (db *DB) markPurged(levels map[string]uint64) error {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	m := db.manifest.clone()
	for i := range m.Segments {
		if l, ok := levels[m.Segments[i].Name]; ok {
			m.Segments[i].Purged = max(m.Segments[i].Purged, l)
		}
	}
	db.withTombstones(m)
	if err := db.commitManifest(m); err != nil {
		return err
	}
	db.manifest = m
	db.stateMu.Lock()
	defer db.stateMu.Unlock()
	for _, s := range db.state.Load().segments {
		if l, ok := levels[s.meta.Name]; ok && l > s.purged.Load() {
			s.purged.Store(l)
		}
	}
	db.retireTombstonesLocked(m)
	return nil
}

// pendingPurges counts the tombstones whose purge is not complete and the
// segments still holding rows they may reach.
func (db *DB) pendingPurges(st *state) (deletes, segments int) {
	tombs := *db.tombs.Load()
	for _, s := range st.segments {
		if len(tombs.after(s.purged.Load(), s.meta.MinSeq)) > 0 {
			segments++
		}
	}
	return len(tombs), segments
}
