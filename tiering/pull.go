package tiering

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/objstore"
)

// PullResult says what Pull restored.
type PullResult struct {
	// Manifest is the number of the manifest restored (0: none was
	// published, only WAL chunks were restored), holding events up to
	// SealedSeq in Segments segments of Bytes bytes.
	Manifest  uint64
	SealedSeq uint64
	Segments  int
	Bytes     int64
	// WALChunks are the WAL chunks restored (--sync-to-object-store):
	// those holding events past SealedSeq, up to LastSeq.
	WALChunks int
	LastSeq   uint64
}

// Pull makes dir, which must not exist or be empty, a data directory
// holding the store as of the latest manifest published in s: every
// segment (its size and SHA-256 checked against the manifest), the small
// files published with it, the manifest, and the writer's identity, so
// that the restored store may go on writing to the prefix. Then the WAL
// chunks a writer with --sync-to-object-store uploaded that hold events
// past the manifest's sealed_seq are checked and written into dir/wal,
// where opening the store replays them. Events that were never sealed
// nor in a chunk (only in the lost writer's WAL) are not in the bucket.
// Run eventlog.Verify on dir afterwards.
func Pull(ctx context.Context, s objstore.Store, dir string) (PullResult, error) {
	if err := emptyDir(dir); err != nil {
		return PullResult{}, err
	}
	// wal/FIRST before the manifest: it moves past a chunk only after a
	// manifest covering the chunk was published, so that manifest (or a
	// later one) is the one read next.
	firstChunk, err := readFirstChunk(ctx, s)
	if err != nil {
		return PullResult{}, err
	}
	m, err := ReadLatest(ctx, s)
	if err != nil {
		return PullResult{}, err
	}
	var res PullResult
	if m == nil {
		writer, err := chunkWriter(ctx, s, firstChunk)
		if err != nil {
			return res, err
		}
		if err := writeWriterID(dir, writer); err != nil {
			return res, err
		}
	} else if res, err = pullManifest(ctx, s, dir, m); err != nil {
		return res, err
	}
	res.LastSeq = res.SealedSeq
	if err := pullWAL(ctx, s, dir, firstChunk, &res); err != nil {
		return res, fmt.Errorf("pull %s: %w", s, err)
	}
	return res, nil
}

// pullManifest restores the segments and files of published manifest m
// into dir.
func pullManifest(ctx context.Context, s objstore.Store, dir string, m *BucketManifest) (PullResult, error) {
	res := PullResult{Manifest: m.Number, SealedSeq: m.SealedSeq}
	segDir := filepath.Join(dir, "segments")
	if err := os.MkdirAll(segDir, 0o755); err != nil {
		return res, err
	}
	for _, o := range m.Segments {
		if err := pullObject(ctx, s, o, filepath.Join(segDir, o.Name)); err != nil {
			return res, fmt.Errorf("pull %s: %w", s, err)
		}
		res.Segments++
		res.Bytes += o.Bytes
	}
	if err := (vfs.OS{}).SyncDir(segDir); err != nil {
		return res, err
	}
	for name, data := range m.Files {
		if err := vfs.WriteFileAtomic(vfs.OS{}, filepath.Join(dir, name), data); err != nil {
			return res, err
		}
	}
	if err := eventlog.InstallManifest(dir, m.Manifest); err != nil {
		return res, fmt.Errorf("pull %s: manifest %d: %w", s, m.Number, err)
	}
	return res, writeWriterID(dir, m.Writer)
}

// emptyDir creates dir or checks that it is empty: a pull never mixes
// with another store's files.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("pull into %s: the directory is not empty", dir)
	}
	return nil
}

// pullObject downloads o to path (through path.tmp, checked, fsynced,
// renamed).
func pullObject(ctx context.Context, s objstore.Store, o Object, path string) error {
	rc, err := s.Get(ctx, o.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	_, err = copyChecked(f, rc, o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		os.Remove(path + ".tmp")
	}
	return err
}
