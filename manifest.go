package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

// manifestFile lists the live segments. It is replaced atomically (write
// MANIFEST.tmp, fsync, rename, fsync the directory), so after a crash it
// names either the old set of segments or the new one.
const manifestFile = "MANIFEST"

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
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	return fmt.Appendf(body, "crc32c %08x\n", crc32.Checksum(body, castagnoli)), nil
}

var errManifest = corrupt.New("manifest is damaged")

func decodeManifest(data []byte) (*manifest, error) {
	i := bytes.LastIndex(data, []byte("crc32c "))
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, fmt.Errorf("%w: no checksum line", errManifest)
	}
	want, err := strconv.ParseUint(string(bytes.TrimSpace(data[i+len("crc32c "):])), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: bad checksum line", errManifest)
	}
	body := data[:i]
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return nil, fmt.Errorf("%w: checksum %08x, expected %08x", errManifest, got, want)
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", errManifest, err)
	}
	if m.Version > manifestVersion {
		return nil, fmt.Errorf("manifest format version %d is newer than this eventlog supports (%d)", m.Version, manifestVersion)
	}
	for i, t := range m.Tombstones {
		if t == nil || (i > 0 && t.Seq <= m.Tombstones[i-1].Seq) {
			return nil, fmt.Errorf("%w: tombstone %d is missing or out of order", errManifest, i)
		}
		if err := t.compile(); err != nil {
			return nil, fmt.Errorf("%w: tombstone %d (seq %d): %v", errManifest, i, t.Seq, err)
		}
	}
	return &m, nil
}

func readManifest(fsys vfs.FS, dir string) (*manifest, error) {
	path := filepath.Join(dir, manifestFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return &manifest{Version: manifestVersion, NextID: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: read %s: %w", path, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %s: %w", path, err)
	}
	return m, nil
}

func writeManifest(fsys vfs.FS, dir string, m *manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, manifestFile), data); err != nil {
		return fmt.Errorf("eventlog: write manifest: %w", err)
	}
	return nil
}

// segmentName is the file name of segment id.
func segmentName(id uint64) string { return fmt.Sprintf("%012d.seg", id) }
