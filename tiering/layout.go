package tiering

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog"
)

// Object keys under the store's prefix.
const (
	segmentsPrefix = "segments/"
	manifestPrefix = "manifest/"
	latestKey      = "manifest/LATEST"
	// keysKey holds the writer's API keys, hashes only (auth.Published),
	// for read-only nodes; overwritten whenever they change.
	keysKey = "keys.json"
)

// maxKeysBytes bounds a read of keysKey.
const maxKeysBytes = 16 << 20

// bucketManifestVersion is the version of the bucket manifest's format;
// readers refuse newer ones. Version 2 added what shapes a read besides
// the MANIFEST (retention, clock, HOLDS); version 1 manifests are read
// as having no retention and no holds.
const bucketManifestVersion = 2

// maxManifestBytes bounds a bucket manifest or pointer read, so that a
// bucket answering garbage cannot exhaust memory.
const maxManifestBytes = 256 << 20

// manifestKey is the key of published manifest n.
func manifestKey(n uint64) string { return fmt.Sprintf("%s%020d", manifestPrefix, n) }

// segmentKey is the key of segment file name.
func segmentKey(name string) string { return segmentsPrefix + name }

// BucketManifest is one published manifest (manifest/NNN…): the store's
// MANIFEST as the writer committed it, with what a reader needs to find
// and check every object it names.
type BucketManifest struct {
	Version int `json:"version"`
	// Number is this manifest's number, the one in its key.
	Number uint64 `json:"number"`
	// Writer identifies the writer that owns the prefix.
	Writer      string    `json:"writer"`
	PublishedAt time.Time `json:"published_at"`
	// SealedSeq is the highest sequence number the segments hold.
	SealedSeq uint64 `json:"sealed_seq"`
	// Manifest is the store's MANIFEST file, byte for byte.
	Manifest []byte `json:"manifest"`
	// Files are the data directory's small files a restored store or a
	// read-only node needs (registry.json, PSEUDONYMS, HOLDS), as they
	// were at publication.
	Files map[string][]byte `json:"files,omitempty"`
	// Retention is the writer's retention policy and Clock its clock at
	// publication (version 2): a node hides what retention hides at the
	// later of its own clock and Clock, so it never shows an event the
	// writer had expired.
	Retention eventlog.RetentionPolicy `json:"retention,omitzero"`
	Clock     time.Time                `json:"clock,omitzero"`
	// Segments are the objects of the segments Manifest names.
	Segments []Object `json:"segments"`
	// Retired are objects earlier manifests named (or that were uploaded
	// and never named) that this one does not, kept until Since plus the
	// delete grace.
	Retired []Retired `json:"retired,omitempty"`
}

// Object is a segment in the bucket.
type Object struct {
	Name   string `json:"name"`
	Key    string `json:"key"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Retired is an object awaiting deletion.
type Retired struct {
	Key   string    `json:"key"`
	Since time.Time `json:"since"`
}

// pointer is the body of manifest/LATEST.
type pointer struct {
	Version  int    `json:"version"`
	Manifest uint64 `json:"manifest"`
}

var (
	segmentNameRE = regexp.MustCompile(`^[0-9]{12}\.seg$`)
	sha256RE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// decodeBucketManifest decodes and checks a published manifest read from
// key, naming the key and the problem on failure.
func decodeBucketManifest(data []byte, key string) (*BucketManifest, error) {
	var m BucketManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bucket manifest %s does not parse: %w", key, err)
	}
	if m.Version < 1 || m.Version > bucketManifestVersion {
		return nil, fmt.Errorf("bucket manifest %s: format version %d is not one this eventlog reads (1..%d)", key, m.Version, bucketManifestVersion)
	}
	if manifestKey(m.Number) != key {
		return nil, fmt.Errorf("bucket manifest %s says it is number %d", key, m.Number)
	}
	if m.Writer == "" || len(m.Manifest) == 0 {
		return nil, fmt.Errorf("bucket manifest %s: no writer or no MANIFEST", key)
	}
	for _, o := range m.Segments {
		if !segmentNameRE.MatchString(o.Name) || o.Key != segmentKey(o.Name) || o.Bytes < 0 || !sha256RE.MatchString(o.SHA256) {
			return nil, fmt.Errorf("bucket manifest %s: bad segment entry %+v", key, o)
		}
	}
	for name := range m.Files {
		if !slices.Contains(publishedFiles, name) {
			return nil, fmt.Errorf("bucket manifest %s: unexpected file %q", key, name)
		}
	}
	return &m, nil
}

// decodePointer decodes manifest/LATEST.
func decodePointer(data []byte) (uint64, error) {
	var p pointer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Version != 1 || p.Manifest == 0 {
		return 0, fmt.Errorf("pointer %s does not parse as {\"version\":1,\"manifest\":N}: %q", latestKey, truncate(data, 80))
	}
	return p.Manifest, nil
}

// truncate shortens b for a message.
func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "..."...)
	}
	return b
}
