package eventlog

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/internal/head"
)

// RetentionPolicy is the part of Options that decides what retention
// hides from reads and drops: a writer publishes it with every manifest
// (package tiering) so that a read-only node applies the same periods.
// Rule filters are held as the store keeps filters: pseudonymised where
// the store pseudonymises (privacy.Pseudonymizer.FilterText), so no
// personal value is published and a node without the key parses them.
type RetentionPolicy struct {
	MaxAge      time.Duration            `json:"max_age,omitempty"`
	Rules       []RetentionRule          `json:"rules,omitempty"`
	SpaceMaxAge map[string]time.Duration `json:"spaces,omitempty"`
	MaxBytes    int64                    `json:"max_bytes,omitempty"`
}

// RetentionPolicy returns the retention the store applies.
func (db *DB) RetentionPolicy() RetentionPolicy {
	p := RetentionPolicy{MaxAge: db.opts.RetentionMaxAge, MaxBytes: db.opts.RetentionMaxBytes,
		SpaceMaxAge: maps.Clone(db.opts.RetentionSpaceMaxAge)}
	for _, r := range db.opts.RetentionRules {
		if text, err := db.opts.Pseudonymizer.FilterText(r.Filter); err == nil {
			r.Filter = text // Open compiled it: it cannot fail here
		}
		p.Rules = append(p.Rules, r)
	}
	return p
}

// Apply sets o's retention fields to p.
func (p RetentionPolicy) Apply(o *Options) {
	o.RetentionMaxAge, o.RetentionMaxBytes = p.MaxAge, p.MaxBytes
	o.RetentionRules = slices.Clone(p.Rules)
	o.RetentionSpaceMaxAge = maps.Clone(p.SpaceMaxAge)
}

// Reload makes a read-only store serve what its data directory holds now:
// MANIFEST (segments and tombstones), HOLDS and registry.json, which a
// follower (package tiering) rewrote after downloading the segments the
// new manifest names, with retention policy p. The change is atomic for
// readers: a read in flight finishes on the segments it started with
// (they stay open, and their files on disk, until its last reference is
// released), a later one sees the new set whole. Segments the new
// manifest still names are kept open, not reopened; the files of those it
// dropped are removed once their last reader is done. Nothing changes
// when an error is returned.
func (db *DB) Reload(p RetentionPolicy) error {
	if !db.opts.ReadOnly {
		return errors.New("eventlog: reload: only a read-only store reloads its data directory")
	}
	db.readers.RLock() // Close waits for the reload, as for a read
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return ErrClosed
	}
	opts := db.opts
	p.Apply(&opts)
	exp, err := newRetentionPeriods(opts)
	if err != nil {
		return fmt.Errorf("eventlog: reload: retention: %w", err)
	}
	m, err := readManifest(db.opts.FS, db.dir)
	if err != nil {
		return fmt.Errorf("eventlog: reload: %w", err)
	}
	hs, err := readHolds(db.opts.FS, db.dir)
	if err != nil {
		return fmt.Errorf("eventlog: reload: %w", err)
	}
	reg, err := loadRegistry(db.opts.FS, db.dir, true)
	if err != nil {
		return fmt.Errorf("eventlog: reload: %w", err)
	}
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	live, err := db.reopenSegments(m)
	if err != nil {
		return fmt.Errorf("eventlog: reload: %w", err)
	}
	db.swapIn(m, live, hs, exp)
	db.reg.replaceWith(reg)
	return nil
}

// reopenSegments returns the live segments of m, each with a reference
// for the state: those open already are shared, the others opened.
func (db *DB) reopenSegments(m *manifest) ([]*liveSegment, error) {
	open := map[string]*liveSegment{}
	for _, s := range db.state.Load().segments {
		open[s.meta.Name] = s
	}
	live := make([]*liveSegment, 0, len(m.Segments))
	for _, meta := range m.Segments {
		if s := open[meta.Name]; s != nil && s.acquire() {
			s.expiresAt.Store(0) // the rules may have changed
			live = append(live, s)
			continue
		}
		s, err := db.openLive(meta)
		if err != nil {
			for _, s := range live {
				s.release()
			}
			return nil, fmt.Errorf("open segment %s: %w", meta.Name, err)
		}
		live = append(live, s)
	}
	return live, nil
}

// swapIn installs m with its live segments, holds and retention, then
// releases the state's references on the segments it replaced (marking
// those m dropped obsolete, so their files go with their last reader).
// The watermark is raised to m's newest sequence number or tombstone:
// a delete whose record is not sealed yet still hides the sealed rows
// it selects, as it does on the writer. Callers hold manifestMu.
func (db *DB) swapIn(m *manifest, live []*liveSegment, hs holdSet, exp *retentionPeriods) {
	keep := map[*liveSegment]bool{}
	for _, s := range live {
		keep[s] = true
	}
	tombs := slices.Clone(m.Tombstones)
	pub := max(m.SealedSeq, db.published.Load())
	if n := len(tombs); n > 0 {
		pub = max(pub, tombs[n-1].Seq)
	}
	db.stateMu.Lock()
	old := db.state.Load()
	db.tombs.Store(&tombs)
	db.holds.Store(&hs)
	db.holdsGen.Add(1)
	db.retention.Store(exp)
	db.state.Store(&state{active: old.active, frozen: old.frozen, segments: live, changed: make(chan struct{})})
	head.Publish(&db.published, pub)
	db.manifest = m
	close(old.changed)
	db.stateMu.Unlock()
	db.tailers.notify() // a tail sees the new manifest's events
	for _, s := range old.segments {
		if !keep[s] {
			s.obsolete.Store(true)
		}
		if err := s.release(); err != nil {
			db.log.Warn("eventlog: reload: release a replaced segment", "segment", s.meta.Name, "err", err)
		}
	}
}

// replaceWith makes r hold o's pairs.
func (r *registry) replaceWith(o *registry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.providers = o.providers
}
