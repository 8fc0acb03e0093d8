package eventlog

import (
	"context"
	"fmt"

	"github.com/eventlogdb/eventlog/compaction"
)

// purge removes the rows of deletes by query from disk, as the first step
// of every compaction run: heads holding rows a tombstone reaches are
// sealed (sealing leaves the rows out, and the WAL is checkpointed past
// them), a segment holding none of the rows is marked clean in the
// manifest, and a segment holding some is rewritten alone without them,
// whether or not the compaction policy would pick it. Once every source
// is clean of a tombstone, the manifest forgets it. Callers hold the
// maintenance slot.
func (db *DB) purge(ctx context.Context, res *CompactResult) error {
	tombs := db.tombstonesToApply()
	if len(tombs) == 0 {
		return nil
	}
	db.manifestMu.Lock()
	sealed := db.manifest.SealedSeq
	db.manifestMu.Unlock()
	if sealed < tombs.newest() {
		db.stateMu.Lock()
		db.rollLocked()
		db.stateMu.Unlock()
		if err := db.sealFrozen(); err != nil {
			return fmt.Errorf("purge: seal: %w", err)
		}
	}
	clean := map[string]uint64{}
	var rewrite []compaction.Job
	for _, s := range db.state.Load().segments {
		apply := tombs.after(s.purged.Load(), s.meta.MinSeq)
		if len(apply) == 0 || !s.acquire() {
			continue
		}
		rows, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), apply)
		s.release()
		switch {
		case err != nil:
			return fmt.Errorf("purge: segment %s: %w", s.meta.Name, err)
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
		if err := db.merge(ctx, j, res); err != nil {
			return fmt.Errorf("purge: rewrite %s: %w", j.Inputs[0], err)
		}
		db.purgeRewrites.Add(1)
		res.Purged++
	}
	return nil
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
	if err := writeManifest(db.opts.fs, db.dir, m); err != nil {
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
