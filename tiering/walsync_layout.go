package tiering

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/wal"
)

// WAL chunks under the store's prefix (FORMAT.md, "WAL chunks"): a chunk
// is a log file of the WAL format holding consecutive records, stored
// under wal/NNNNNNNNNNNNNNNNNNNN.chunk, numbered from 1 with no gaps, and
// wal/FIRST names the oldest chunk that is not retired.
const (
	walPrefix   = "wal/"
	walFirstKey = "wal/FIRST"
	chunkSuffix = ".chunk"
)

// Chunk object metadata (S3 user metadata, lower-case keys).
const (
	metaWriter   = "writer"
	metaFirstSeq = "first-seq"
	metaLastSeq  = "last-seq"
	metaSHA256   = "sha256"
)

// MaxWALChunkBytes bounds WALSyncConfig.ChunkMaxBytes; a chunk object is
// at most that plus one record (a record may be as large as
// wal.MaxPayload), which bounds what a reader takes into memory.
const MaxWALChunkBytes = maxChunkBytes

const (
	maxChunkBytes  = 256 << 20
	maxChunkObject = maxChunkBytes + wal.MaxPayload + wal.HeaderRoom + wal.FileHeaderSize
)

// chunkKey is the key of WAL chunk n.
func chunkKey(n uint64) string { return fmt.Sprintf("%s%020d%s", walPrefix, n, chunkSuffix) }

// chunk is a WAL chunk ready to upload: a whole log file.
type chunk struct {
	number      uint64
	first, last uint64
	data        []byte
	sha256      string
}

// newChunk frames records (whole WAL records back to back, the first
// starting at seq first and the last ending at seq last) as a log file.
func newChunk(number, first, last uint64, records []byte) *chunk {
	data := make([]byte, 0, wal.FileHeaderSize+len(records))
	data = wal.AppendFileHeader(data, first)
	data = append(data, records...)
	sum := sha256.Sum256(data)
	return &chunk{number: number, first: first, last: last, data: data, sha256: hex.EncodeToString(sum[:])}
}

// metadata is what a chunk object carries besides its bytes.
func (c *chunk) metadata(writer string) map[string]string {
	return map[string]string{
		metaWriter:   writer,
		metaFirstSeq: strconv.FormatUint(c.first, 10),
		metaLastSeq:  strconv.FormatUint(c.last, 10),
		metaSHA256:   c.sha256,
	}
}

// firstPointer is the body of wal/FIRST.
type firstPointer struct {
	Version int    `json:"version"`
	Chunk   uint64 `json:"chunk"`
}

// readFirstChunk returns the number wal/FIRST names: 1 without one.
func readFirstChunk(ctx context.Context, s objstore.Store) (uint64, error) {
	data, err := objstore.GetBytes(ctx, s, walFirstKey, 4096)
	if errors.Is(err, objstore.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", walFirstKey, err)
	}
	var p firstPointer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Version != 1 || p.Chunk == 0 {
		return 0, fmt.Errorf("%s: %s does not parse as {\"version\":1,\"chunk\":N}: %q", s, walFirstKey, truncate(data, 80))
	}
	return p.Chunk, nil
}

// writeFirstChunk points wal/FIRST at chunk n.
func writeFirstChunk(ctx context.Context, s objstore.Store, n uint64) error {
	data, _ := json.Marshal(firstPointer{Version: 1, Chunk: n})
	if err := objstore.PutBytes(ctx, s, walFirstKey, append(data, '\n'), objstore.PutOptions{}); err != nil {
		return fmt.Errorf("write %s: %w", walFirstKey, err)
	}
	return nil
}

// chunkLastSeq reads the last sequence number of chunk n from its
// metadata; found is false when the chunk is missing.
func chunkLastSeq(ctx context.Context, s objstore.Store, n uint64) (last uint64, found bool, err error) {
	info, err := s.Head(ctx, chunkKey(n))
	if errors.Is(err, objstore.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	last, perr := strconv.ParseUint(info.Metadata[metaLastSeq], 10, 64)
	if perr != nil {
		return 0, true, fmt.Errorf("%s: %s has no valid %s metadata (%q)", s, chunkKey(n), metaLastSeq, info.Metadata[metaLastSeq])
	}
	return last, true, nil
}

// chunkExists reports whether chunk n is in s.
func chunkExists(ctx context.Context, s objstore.Store, n uint64) (bool, error) {
	_, err := s.Head(ctx, chunkKey(n))
	if errors.Is(err, objstore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// nextChunkNumber finds the number after the last chunk in s, given that
// chunks first.. exist with no gap (they are created one at a time, in
// order, and deleted only from the oldest): a gallop then a binary search,
// O(log n) HEAD requests, never a listing.
func nextChunkNumber(ctx context.Context, s objstore.Store, first uint64) (uint64, error) {
	ok, err := chunkExists(ctx, s, first)
	if err != nil || !ok {
		return first, err
	}
	lo, hi := first, first+1 // lo exists; is hi missing?
	for step := uint64(1); ; step *= 2 {
		if ok, err = chunkExists(ctx, s, hi); err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi+step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok, err = chunkExists(ctx, s, mid); err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
