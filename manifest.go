package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

// manifestFile lists the live segments. It is replaced atomically (write
// MANIFEST.tmp, fsync, rename, fsync the directory), so after a crash it
// names either the old set of segments or the new one.
const manifestFile = "MANIFEST"

// manifestPrevFile is the manifest MANIFEST replaced, kept so that repair
// can rebuild a damaged MANIFEST (as Pebble keeps its manifest history).
const manifestPrevFile = "MANIFEST.prev"

// manifestVersion is the version of the manifest's format; readers refuse
// newer ones.
const manifestVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// manifest is the durable list of live segments.
type manifest struct {
	Version int `json:"version"`
	// NextID numbers the next segment file.
	NextID uint64 `json:"next_id"`
	// SealedSeq is the highest sequence number whose event (and every
	// lower one's) is in a segment: WAL replay starts after it.
	SealedSeq uint64        `json:"sealed_seq"`
	Segments  []segmentMeta `json:"segments"`
	// Tombstones are the deletes by query whose purge is not complete, in
	// Seq order.
	Tombstones tombstones `json:"tombstones,omitempty"`
}

// segmentMeta describes one live segment file.
type segmentMeta struct {
	Name   string `json:"name"`
	Events int    `json:"events"`
	MinTS  int64  `json:"min_ts"`
	MaxTS  int64  `json:"max_ts"`
	MinSeq uint64 `json:"min_seq"`
	MaxSeq uint64 `json:"max_seq"`
	Bytes  int64  `json:"bytes"`
	// Purged is the Seq of the newest tombstone the segment is clean of:
	// it was written applying every tombstone up to it, or checked to hold
	// none of their rows.
	Purged uint64 `json:"purged,omitempty"`
}

// encodeManifest writes the manifest as indented JSON followed by a line
// "crc32c XXXXXXXX" over the JSON bytes.
func encodeManifest(m *manifest) ([]byte, error) {
	return encodeChecksummed(m)
}

// encodeChecksummed writes v as indented JSON followed by a line
// "crc32c XXXXXXXX" over the JSON bytes: the envelope of MANIFEST and
// TOMBSTONES.
func encodeChecksummed(v any) ([]byte, error) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	return fmt.Appendf(body, "crc32c %08x\n", crc32.Checksum(body, castagnoli)), nil
}

// decodeChecksummed checks the envelope of encodeChecksummed and decodes
// its JSON into v, refusing unknown fields; damage wraps damaged.
func decodeChecksummed(data []byte, v any, damaged error) error {
	i := bytes.LastIndex(data, []byte("crc32c "))
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return fmt.Errorf("%w: no checksum line", damaged)
	}
	want, err := strconv.ParseUint(string(bytes.TrimSpace(data[i+len("crc32c "):])), 16, 32)
	if err != nil {
		return fmt.Errorf("%w: bad checksum line", damaged)
	}
	body := data[:i]
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return fmt.Errorf("%w: checksum %08x, expected %08x", damaged, got, want)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", damaged, err)
	}
	return nil
}

var errManifest = corrupt.New("manifest is damaged")

func decodeManifest(data []byte) (*manifest, error) {
	var m manifest
	if err := decodeChecksummed(data, &m, errManifest); err != nil {
		return nil, err
	}
	if m.Version > manifestVersion {
		return nil, fmt.Errorf("manifest format version %d is newer than this eventlog supports (%d)", m.Version, manifestVersion)
	}
	if err := m.Tombstones.check(errManifest); err != nil {
		return nil, err
	}
	return &m, nil
}

// readManifest reads dir's MANIFEST. A missing one is a new store, unless
// MANIFEST.prev exists (written once a MANIFEST exists, and MANIFEST is
// never removed): then it is damaged. Without that check, a lost MANIFEST
// would make Open delete every segment as a leftover.
func readManifest(fsys vfs.FS, dir string) (*manifest, error) {
	m, _, err := readManifestFile(fsys, dir, manifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		if _, perr := fsys.Stat(filepath.Join(dir, manifestPrevFile)); perr != nil {
			return &manifest{Version: manifestVersion, NextID: 1}, nil
		}
		err = fmt.Errorf("%w: missing, though %s exists", errManifest, manifestPrevFile)
	}
	if errors.Is(err, errManifest) && !strings.HasPrefix(err.Error(), "eventlog: ") {
		err = fmt.Errorf("eventlog: %s: %w", filepath.Join(dir, manifestFile), err)
	}
	if errors.Is(err, errManifest) {
		return nil, fmt.Errorf("%w; the store cannot open: run eventlog repair, which rebuilds it from %s, %s and the files on disk",
			err, manifestPrevFile, tombstonesFile)
	}
	return m, err
}

// readManifestFile reads and decodes the manifest file name of dir (MANIFEST
// or MANIFEST.prev), returning its bytes too.
func readManifestFile(fsys vfs.FS, dir, name string) (*manifest, []byte, error) {
	path := filepath.Join(dir, name)
	data, err := vfs.ReadFile(fsys, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("eventlog: read %s: %w", path, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, data, fmt.Errorf("eventlog: %s: %w", path, err)
	}
	return m, data, nil
}

// writeManifest replaces MANIFEST with m, crash-safely and in this order:
// TOMBSTONES (when the tombstones of m and of the current manifest are not
// what it holds), MANIFEST.prev (a copy of the current manifest, when it
// decodes and differs from m), then MANIFEST (vfs.WriteFileAtomic). A
// failure after MANIFEST's rename wraps vfs.ErrMaybeReplaced. So does one
// after the rename of TOMBSTONES or MANIFEST.prev: MANIFEST is then
// untouched, but the data directory's fsync failed, as MANIFEST's own
// would, and the caller stops writing either way. Then settlePrevious may
// rewrite MANIFEST.prev and TOMBSTONES.
func writeManifest(fsys vfs.FS, dir string, m *manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	cur, curData, _ := readManifestFile(fsys, dir, manifestFile)
	if err := keepTombstones(fsys, dir, m, cur); err != nil {
		return fmt.Errorf("eventlog: write manifest: %w", err)
	}
	if cur != nil && !bytes.Equal(curData, data) {
		if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, manifestPrevFile), curData); err != nil {
			return fmt.Errorf("eventlog: write manifest: keep the previous one: %w", err)
		}
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, manifestFile), data); err != nil {
		return fmt.Errorf("eventlog: write manifest: %w", err)
	}
	if cur == nil || len(unionTombstones(m.Tombstones, cur.Tombstones)) > len(m.Tombstones) {
		settlePrevious(fsys, dir, m, data)
	}
	return nil
}

// settlePrevious makes MANIFEST.prev a copy of the manifest m just written
// as data, and TOMBSTONES hold m's tombstones only, in two cases. After
// the first manifest (or one rebuilt): MANIFEST.prev then exists from the
// moment a MANIFEST did, which is how readManifest tells a lost MANIFEST
// from a new store. When m retires tombstones: their purge is complete,
// and a completed delete's filter is kept nowhere. A failure leaves both
// files as they were until the next manifest write replaces them.
func settlePrevious(fsys vfs.FS, dir string, m *manifest, data []byte) {
	if vfs.WriteFileAtomic(fsys, filepath.Join(dir, manifestPrevFile), data) == nil {
		_ = keepTombstones(fsys, dir, m, nil)
	}
}

// segmentName is the file name of segment id.
func segmentName(id uint64) string { return fmt.Sprintf("%012d.seg", id) }

// segmentID parses a segment file name, reporting whether it is one.
func segmentID(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".seg")
	if !ok || len(digits) != 12 {
		return 0, false
	}
	id, err := strconv.ParseUint(digits, 10, 64)
	return id, err == nil
}

// clone returns a deep copy of m.
func (m *manifest) clone() *manifest {
	c := *m
	c.Segments = slices.Clone(m.Segments)
	c.Tombstones = slices.Clone(m.Tombstones)
	return &c
}
