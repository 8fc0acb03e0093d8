package tiering

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/wal"
)

// chunkWriter returns the writer identity chunk n carries: the writer of a
// prefix that has chunks and no manifest yet (killed before its first
// seal). With neither, there is nothing to pull.
func chunkWriter(ctx context.Context, s objstore.Store, n uint64) (string, error) {
	info, err := s.Head(ctx, chunkKey(n))
	if errors.Is(err, objstore.ErrNotFound) {
		return "", fmt.Errorf("%s: no manifest published and no WAL chunk: nothing to pull", s)
	}
	if err != nil {
		return "", err
	}
	w := info.Metadata[metaWriter]
	if len(w) != 32 {
		return "", fmt.Errorf("%s: %s carries no valid writer identity (%q)", s, chunkKey(n), w)
	}
	return w, nil
}

// pullWAL writes into dir/wal, as log files, the WAL chunks from number
// first on (until one is missing) that hold events past res.SealedSeq,
// each checked whole (every record's CRC, sequence order within and
// across chunks) before it is written; a damaged chunk fails the pull,
// naming it. Opening the store replays them after the sealed events.
func pullWAL(ctx context.Context, s objstore.Store, dir string, first uint64, res *PullResult) error {
	walDir := filepath.Join(dir, "wal")
	var prevLast uint64
	for n := first; ; n++ {
		key := chunkKey(n)
		data, err := objstore.GetBytes(ctx, s, key, maxChunkObject)
		if errors.Is(err, objstore.ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		info, err := wal.CheckFile(key, data)
		if err != nil {
			return fmt.Errorf("WAL chunk %s: %w", key, err)
		}
		if info.FirstSeq <= prevLast {
			return fmt.Errorf("WAL chunk %s starts at seq %d, not after the previous chunk's last %d", key, info.FirstSeq, prevLast)
		}
		prevLast = info.LastSeq
		if info.LastSeq <= res.SealedSeq {
			continue // the segments hold these events
		}
		if err := os.MkdirAll(walDir, 0o755); err != nil {
			return err
		}
		if err := vfs.WriteFileAtomic(vfs.OS{}, filepath.Join(walDir, wal.FileName(info.FirstSeq)), data); err != nil {
			return fmt.Errorf("restore WAL chunk %s: %w", key, err)
		}
		res.WALChunks++
		res.LastSeq = info.LastSeq
	}
	if res.WALChunks > 0 {
		return (vfs.OS{}).SyncDir(dir) // the wal directory it made
	}
	return nil
}
