package eventlog

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// ManifestObserver learns of every manifest the store commits, so that a
// component outside the engine (package tiering's uploader) can follow
// the segment set without the engine knowing about it: seals, compactions,
// retention and purges all end in a manifest commit.
//
// ManifestCommitted is called with the store's manifest lock held, in
// commit order, after the new MANIFEST is durable and before any segment
// file it stopped naming is removed: a file named by the latest commit an
// observer saw exists until a later commit is delivered. It must return
// quickly (record the commit and wake a goroutine) and must not call back
// into the DB. It is called again with the same manifest when the incident
// holds change: they shape reads, and a follower must learn of them.
type ManifestObserver interface {
	ManifestCommitted(c ManifestCommit)
}

// ManifestCommit is one committed manifest.
type ManifestCommit struct {
	// Data are the MANIFEST file's bytes as written (FORMAT.md).
	Data []byte
	// SealedSeq is the highest sequence number held by segments.
	SealedSeq uint64
	// NextID numbers the next segment file: every segment this store
	// ever wrote has a lower number.
	NextID uint64
	// Segments are the live segment files it names.
	Segments []SegmentFile
	// Retention is the store's retention policy, and Clock its clock
	// (Options.Now) at the commit: the retention a read applies at Clock.
	Retention RetentionPolicy
	Clock     time.Time
}

// SegmentFile is one live segment file.
type SegmentFile struct {
	// Name is the file name (000000000001.seg).
	Name string
	// Path is where the file is on local disk; an offloaded segment
	// (DB.ReopenSegments, published already) is no longer there.
	Path  string
	Bytes int64
}

// ManifestCommit returns the manifest committed last, for an observer
// starting after Open.
func (db *DB) ManifestCommit() ManifestCommit {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	return db.commitOf(db.manifest)
}

// notifyManifest tells the observer, if any, of m. Callers hold
// manifestMu.
func (db *DB) notifyManifest(m *manifest) {
	if db.opts.ManifestObserver != nil {
		db.opts.ManifestObserver.ManifestCommitted(db.commitOf(m))
	}
}

// commitOf describes m.
func (db *DB) commitOf(m *manifest) ManifestCommit {
	data, _ := encodeManifest(m) // as writeManifest did: it cannot fail twice differently
	c := ManifestCommit{Data: data, SealedSeq: m.SealedSeq, NextID: m.NextID, Segments: make([]SegmentFile, len(m.Segments)),
		Retention: db.RetentionPolicy(), Clock: db.opts.Now().UTC()}
	for i, s := range m.Segments {
		c.Segments[i] = SegmentFile{Name: s.Name, Path: filepath.Join(db.segDir(), s.Name), Bytes: s.Bytes}
	}
	return c
}

// InstallManifest makes data (MANIFEST bytes, as a ManifestCommit
// carries them) the manifest of the data directory dir, as the store
// writes one: TOMBSTONES, MANIFEST.prev and MANIFEST, each crash-safely.
// It is how a store is restored from a copy of its files elsewhere
// (eventlog object-store pull): the segments it names must be in
// dir/segments first. It refuses data that does not decode.
func InstallManifest(dir string, data []byte) error {
	m, err := decodeManifest(data)
	if err != nil {
		return fmt.Errorf("eventlog: install manifest in %s: %w", dir, err)
	}
	return writeManifest(vfs.OS{}, dir, m)
}
