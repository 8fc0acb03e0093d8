package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// Verify checks every checksum of every file in the data directory dir —
// the manifest, each live segment (every block, index and bitmap) and every
// WAL record — without changing anything, and returns one error per problem
// found, each naming its file (and section or offset). Segments waiting in
// quarantine/ are problems too: they hold events the store no longer serves;
// so is a READONLY marker (see Repair). A segment a writer offloaded to
// the object store (SegmentCacheDir) is checked through what its cache
// keeps locally: the whole file if held, else its pinned part.
// A nil result means the directory is healthy. Verify may run while a DB has
// the directory open; it then may see a WAL tail being written as torn.
func Verify(dir string) []error {
	if _, err := os.Stat(dir); err != nil {
		return []error{fmt.Errorf("verify: %w", err)}
	}
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		return []error{err}
	}
	var problems []error
	if reason, err := readOnlyReason(vfs.OS{}, dir); err != nil || reason != "" {
		problems = append(problems, cmp.Or(err, fmt.Errorf("%s: the store opens read-only: %s", filepath.Join(dir, readOnlyFile), reason)))
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return []error{err}
	}
	defer dec.Close()
	for _, meta := range m.Segments {
		path := filepath.Join(dir, "segments", meta.Name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && offloaded(vfs.OS{}, dir, meta.Name) {
			problems = append(problems, verifyOffloaded(dir, meta, dec)...)
			continue
		}
		problems = append(problems, verifySegment(path, meta, dec)...)
	}
	problems = append(problems, verifyWAL(dir, m.SealedSeq)...)
	entries, err := os.ReadDir(filepath.Join(dir, quarantineDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		problems = append(problems, err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".seg" { // NAME.seg.json sidecars describe them
			continue
		}
		problems = append(problems, fmt.Errorf("%s: quarantined segment (damaged; its events are not served): run eventlog repair",
			filepath.Join(dir, quarantineDir, e.Name())))
	}
	return problems
}

func verifySegment(path string, meta segmentMeta, dec *zstd.Decoder) []error {
	r, err := segment.Open(path, segment.OpenOptions{Decoder: dec})
	if err != nil {
		return []error{err}
	}
	defer r.Close()
	var problems []error
	if err := r.Verify(); err != nil {
		problems = append(problems, err)
	}
	if info := r.Info(); info.Events != meta.Events || info.MinSeq != meta.MinSeq || info.MaxSeq != meta.MaxSeq {
		problems = append(problems, fmt.Errorf("%s: holds %d events (seq %d..%d), the manifest says %d (seq %d..%d)",
			path, info.Events, info.MinSeq, info.MaxSeq, meta.Events, meta.MinSeq, meta.MaxSeq))
	}
	return problems
}

// verifyOffloaded checks a segment the writer offloaded to the object
// store: its whole file when the segment cache holds one, else its pinned
// part (header, block index, postings, footer and their checksums, and
// the manifest's counts); its blocks are only in the bucket, where
// eventlog object-store verify checks them.
func verifyOffloaded(dir string, meta segmentMeta, dec *zstd.Decoder) []error {
	whole := filepath.Join(dir, SegmentCacheDir, meta.Name)
	if _, err := os.Stat(whole); err == nil {
		return verifySegment(whole, meta, dec)
	}
	path := offloadedPinPath(dir, meta.Name)
	pin, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("offloaded segment %s: %w", meta.Name, err)}
	}
	r, err := segment.OpenSource(path, pin, noBlocks{}, segment.OpenOptions{Decoder: dec})
	if err != nil {
		return []error{err}
	}
	defer r.Close()
	if info := r.Info(); info.Events != meta.Events || info.MinSeq != meta.MinSeq || info.MaxSeq != meta.MaxSeq {
		return []error{fmt.Errorf("%s: holds %d events (seq %d..%d), the manifest says %d (seq %d..%d)",
			path, info.Events, info.MinSeq, info.MaxSeq, meta.Events, meta.MinSeq, meta.MaxSeq)}
	}
	return nil
}

// noBlocks is the block source of a pinned part read offline: its blocks
// are in the object store, which Verify does not reach.
type noBlocks struct{}

func (noBlocks) ReadRange(off, n int64) ([]byte, error) {
	return nil, fmt.Errorf("the blocks of an offloaded segment are in the object store (%d bytes at %d)", n, off)
}

// verifyWAL replays the WAL read-only, decoding every event of every record.
func verifyWAL(dir string, sealed uint64) []error {
	w, err := wal.Open(wal.Options{Dir: filepath.Join(dir, "wal"), ReadOnly: true}, sealed, func(r wal.Record) error {
		_, err := decodeBatch(r.Payload, r.FirstSeq, r.Count, func(int, *Event, []byte) {})
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []error{err}
	}
	return errorList(w.Close())
}

func errorList(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
}
