package eventlog

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/wal"
)

// An online backup is a copy of a live data directory as of one sequence
// number, taken while appends go on:
//
//	pin:    under manifestMu (so no seal, compaction or retention changes
//	        the segment set meanwhile) the manifest is cloned, a reference
//	        is taken on each of its segments (so none is deleted while it
//	        is copied) and the WAL is snapshotted (wal.Snapshot: the active
//	        file is ended, so the files to copy are closed, and Checkpoint
//	        keeps them until the copy is done). Appends wait only for the
//	        WAL's rotation.
//	copy:   segments (those already in the target are verified, not
//	        copied), the pinned log files, then the other files of the
//	        directory (backupEntries), each to NAME.tmp, fsynced, renamed,
//	        the directories fsynced.
//	seal:   the pinned manifest is written, the copy is verified, and
//	        BACKUP (backup_info.go) is written last: a directory without a
//	        BACKUP matching its MANIFEST is an unfinished backup.
//	tidy:   segments of an earlier backup that the new manifest no longer
//	        lists are removed.

// BackupResult says what DB.Backup did.
type BackupResult struct {
	// Dir is the backup's directory.
	Dir string `json:"dir"`
	// Seq is the backup's sequence number: it holds every event with a
	// sequence number up to Seq and none after it.
	Seq uint64 `json:"seq"`
	// SealedSeq is the backup manifest's sealed_seq: events after it are
	// in the backup's WAL files.
	SealedSeq uint64 `json:"sealed_seq"`
	// Segments and WALFiles count the backup's segment and log files.
	Segments int `json:"segments"`
	WALFiles int `json:"wal_files"`
	// FilesCopied counts the files written, SegmentsCopied the segments
	// among them, FilesSkipped the segments
	// already in the target (same size and last bytes, every checksum
	// verified) and not copied again, FilesRemoved the files of an earlier
	// backup in the target that the new one no longer holds.
	FilesCopied    int   `json:"files_copied"`
	SegmentsCopied int   `json:"segments_copied"`
	FilesSkipped   int   `json:"files_skipped"`
	FilesRemoved   int   `json:"files_removed"`
	BytesCopied    int64 `json:"bytes_copied"`
	// Took is how long the backup took, Pinned how long appends may have
	// waited for it (the pin step).
	Took   time.Duration `json:"took_ns"`
	Pinned time.Duration `json:"pinned_ns"`
}

// Backup writes a consistent copy of the store to dir, as of one sequence
// number (BackupResult.Seq), while appends and reads go on: appends wait
// only for the moment the WAL's active file is ended. dir is meant to be on
// another file system: every file is copied, none linked. dir may hold an
// earlier backup of this store: segments it already holds (same name and
// size, every checksum verified) are not copied again, and those the new
// backup does not list are removed once it is complete.
//
// The backup is a data directory plus a BACKUP file (FORMAT.md): written
// last, after the copy was verified, it is what marks the backup
// complete. While a backup is being written, and after one fails, dir has
// no BACKUP and no MANIFEST; Restore refuses such a directory. Restore, or
// Open on the directory itself, gives back exactly the events up to Seq.
func (db *DB) Backup(ctx context.Context, dir string) (BackupResult, error) {
	res, err := db.backup(ctx, vfs.OS{}, dir)
	if err != nil {
		return res, fmt.Errorf("eventlog: backup to %s: %w", dir, err)
	}
	return res, nil
}

// backup is Backup writing through dst (tests inject faults there).
func (db *DB) backup(ctx context.Context, dst vfs.FS, dir string) (BackupResult, error) {
	start := time.Now()
	if db.closed.Load() {
		return BackupResult{}, ErrClosed
	}
	db.readers.RLock() // Close waits for the copy, as for a read
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return BackupResult{}, ErrClosed
	}
	if err := checkBackupTarget(db.dir, dir); err != nil {
		return BackupResult{}, err
	}
	if err := dst.MkdirAll(dir, 0o755); err != nil {
		return BackupResult{}, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return BackupResult{}, fmt.Errorf("another backup is writing there: %w", err)
	}
	defer lock.release()
	b := &backupRun{src: db.opts.FS, srcDir: db.dir, dst: dst, dir: dir, dec: db.zdec, stop: func() error { return db.stopped(ctx) }, integrity: db.integrity,
		openOffloaded: db.opts.OpenSegmentFile}
	b.res.Dir = dir
	err = b.run(db, absPath(db.dir))
	b.res.Took = time.Since(start)
	return b.res, err
}

// absPath is path made absolute, or path when that fails.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// stopped returns why a long job of the DB must stop now, or nil.
func (db *DB) stopped(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// checkBackupTarget refuses a target that is the data directory, lies in
// it or holds it: the copy and its removals must never touch live files.
func checkBackupTarget(data, target string) error {
	a, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	b, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	inside := func(parent, child string) bool {
		rel, err := filepath.Rel(parent, child)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	if inside(a, b) || inside(b, a) {
		return fmt.Errorf("the target %s must be outside the data directory %s (and not hold it)", target, data)
	}
	return nil
}

// backupSnapshot is what the pin step fixes: the manifest, references on
// its segments and the pinned WAL files.
type backupSnapshot struct {
	manifest *manifest
	segments []*liveSegment
	wal      *wal.Snapshot
}

// pinBackup takes the snapshot. manifestMu keeps the segment set and the
// manifest from changing meanwhile; the state's segments are the
// manifest's under it.
func (db *DB) pinBackup() (*backupSnapshot, error) {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	m := db.manifest.clone()
	names := make([]string, len(m.Segments))
	for i, s := range m.Segments {
		names[i] = s.Name
	}
	segs, err := db.acquireSegments(names)
	if err != nil {
		return nil, err
	}
	ws, err := db.wal.Snapshot(m.SealedSeq)
	if err != nil {
		releaseSegments(segs)
		return nil, err
	}
	return &backupSnapshot{manifest: m, segments: segs, wal: ws}, nil
}

// release lets go of the snapshot's segments and WAL files; the WAL files
// the pin kept past a checkpoint go at the next one, run here.
func (s *backupSnapshot) release(db *DB) {
	releaseSegments(s.segments)
	s.segments = nil
	s.wal.Release()
	if db.opts.ReadOnly {
		return
	}
	if err := db.wal.Checkpoint(db.sealedSeq()); err != nil {
		db.log.Error("eventlog: WAL checkpoint after a backup failed; the next seal retries it", "err", err)
	}
}

func releaseSegments(segs []*liveSegment) {
	for _, s := range segs {
		s.release()
	}
}

// run writes the backup: see the comment at the top of this file.
func (b *backupRun) run(db *DB, source string) error {
	if err := b.markIncomplete(); err != nil {
		return err
	}
	t := time.Now()
	snap, err := db.pinBackup()
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	b.res.Pinned = time.Since(t)
	b.res.Seq, b.res.SealedSeq = max(snap.wal.LastSeq, snap.manifest.SealedSeq), snap.manifest.SealedSeq
	b.res.Segments, b.res.WALFiles = len(snap.manifest.Segments), len(snap.wal.Files)
	logFiles, err := b.copyPinned(snap)
	snap.release(db)
	if err != nil {
		return err
	}
	if err := b.copyEntries(logFiles); err != nil {
		return err
	}
	if err := b.syncDirs(); err != nil {
		return err
	}
	return b.seal(snap.manifest, source)
}

// seal writes the manifest, verifies the copy, writes BACKUP and removes
// the segments the backup no longer lists.
func (b *backupRun) seal(m *manifest, source string) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := writeManifest(b.dst, b.dir, m); err != nil { // with TOMBSTONES and MANIFEST.prev
		return err
	}
	if err := verifyCopy(b.dir, b.res.Seq, b.dec); err != nil {
		return errors.Join(err, b.markIncomplete())
	}
	if err := writeBackupInfo(b.dst, b.dir, b.info(m, source, data)); err != nil {
		return errors.Join(err, b.markIncomplete())
	}
	keep := map[string]bool{}
	for _, s := range m.Segments {
		keep[s.Name] = true
	}
	return b.removeStale(segmentsDirName, keep)
}

// markIncomplete removes BACKUP, then MANIFEST, from the target, so that
// from here until the new ones are written it is not taken for a backup.
func (b *backupRun) markIncomplete() error {
	for _, name := range []string{backupInfoFile, manifestFile} {
		if err := b.dst.Remove(filepath.Join(b.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return b.dst.SyncDir(b.dir)
}

// info is the BACKUP file of the backup being sealed.
func (b *backupRun) info(m *manifest, source string, manifestData []byte) backupInfo {
	return backupInfo{
		Version: backupInfoVersion, Seq: b.res.Seq, SealedSeq: m.SealedSeq,
		Segments: len(m.Segments), WALFiles: b.res.WALFiles,
		Created: time.Now().UTC().Truncate(time.Second), Source: source,
		ManifestCRC: fmt.Sprintf("%08x", crc32.Checksum(manifestData, castagnoli)),
	}
}
