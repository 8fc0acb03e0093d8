package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Dir is the restored data directory.
	Dir string `json:"dir"`
	// Seq is the backup's sequence number: the restored store holds every
	// event up to it and none after it.
	Seq uint64 `json:"seq"`
	// Segments counts the restored store's segments; FilesCopied and
	// BytesCopied what was copied, every file verified.
	Segments    int   `json:"segments"`
	FilesCopied int   `json:"files_copied"`
	BytesCopied int64 `json:"bytes_copied"`
	// TreeLost counts the Merkle tree's positions the restore loses: leaves
	// of the backup's leaf log past Seq (their events became durable while
	// the backup was copied). They are recorded as lost to the restore,
	// and the restored store's first open records the fork as an event.
	TreeLost uint64 `json:"tree_lost"`
}

// Restore copies the backup in from (written by DB.Backup) to the data
// directory to and verifies the copy: opened, to holds exactly the events
// up to the backup's sequence number. It refuses a directory that is not
// a complete backup (no BACKUP file matching its MANIFEST: a backup still
// being written, or one that failed) and a target that exists and is not
// empty. The manifest is copied last, so an interrupted restore leaves a
// directory without one; a failed verification removes it again.
func Restore(ctx context.Context, from, to string) (RestoreResult, error) {
	res, err := restore(ctx, from, to)
	if err != nil {
		return res, fmt.Errorf("eventlog: restore %s to %s: %w", from, to, err)
	}
	return res, nil
}

func restore(ctx context.Context, from, to string) (RestoreResult, error) {
	res := RestoreResult{Dir: to}
	info, err := readBackupInfo(vfs.OS{}, from)
	if err != nil {
		return res, err
	}
	res.Seq = info.Seq
	m, err := readManifest(vfs.OS{}, from)
	if err != nil {
		return res, err
	}
	res.Segments = len(m.Segments)
	if err := emptyTarget(to); err != nil {
		return res, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return res, err
	}
	defer dec.Close()
	b := &backupRun{src: vfs.OS{}, srcDir: from, dst: vfs.OS{}, dir: to, dec: dec, stop: ctx.Err}
	res.TreeLost, err = b.restore(m, info.Seq)
	res.FilesCopied, res.BytesCopied = b.res.FilesCopied, b.res.BytesCopied
	return res, err
}

// emptyTarget creates dir, refusing one that exists with entries in it.
func emptyTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("the target %s is not empty (it holds %s): restore writes only into a new or empty directory", dir, entries[0].Name())
	}
	return os.MkdirAll(dir, 0o755)
}

// restore copies the manifest's segments and every other entry of the
// backup (backupEntries), records what the Merkle tree loses, then copies
// the manifest and verifies. It returns the tree positions lost.
func (b *backupRun) restore(m *manifest, seq uint64) (uint64, error) {
	for _, s := range m.Segments {
		if err := b.copyFile(filepath.Join(b.srcDir, segmentsDirName, s.Name), filepath.Join(segmentsDirName, s.Name), s.Bytes); err != nil {
			return 0, fmt.Errorf("segment %s: %w", s.Name, err)
		}
	}
	for _, e := range backupEntries {
		var err error
		switch e.kind {
		case backupFile:
			err = b.copyOptional(e.name)
		case backupDir, backupLog:
			err = b.copyDir(strings.TrimSuffix(e.name, "/"))
		case backupTree: // the same tree, keys included, goes on in the restored store
			if err = b.copyDir(IntegrityDir); err == nil {
				err = b.copyDir(filepath.Join(IntegrityDir, "leaves"))
			}
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if err := b.syncDirs(); err != nil {
		return 0, err
	}
	// Before the manifest makes the copy a store: a crash after it cannot
	// leave the lost positions unlabelled.
	lost, err := recordRestoreLoss(b.dir, seq)
	if err != nil {
		return 0, err
	}
	for _, name := range []string{tombstonesFile, manifestFile, manifestPrevFile} { // FORMAT.md, "Writing a manifest"
		if err := b.copyOptional(name); err != nil {
			return lost, err
		}
		if err := b.syncDirs(); err != nil {
			return lost, err
		}
	}
	if err := verifyCopy(b.dir, seq, b.dec); err != nil {
		return lost, errors.Join(err, os.Remove(filepath.Join(b.dir, manifestFile)))
	}
	return lost, nil
}
