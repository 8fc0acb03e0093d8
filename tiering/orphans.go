package tiering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
)

// findOrphans returns the segment objects an earlier run of this writer
// uploaded and never published, whose segments the store no longer has
// (it crashed between uploading and publishing, and compaction or
// retention removed them since): no manifest names them, and they would
// stay for ever. They can only be numbered from the published manifest's
// next_id (everything lower was published or retired by it) up to the
// store's, so a HEAD of each number finds them without listing.
func findOrphans(ctx context.Context, s objstore.Store, p *BucketManifest, c *eventlog.ManifestCommit) ([]string, error) {
	if p == nil {
		return nil, nil // the first publication: nothing was published to compare with
	}
	from, err := nextID(p.Manifest)
	if err != nil {
		return nil, fmt.Errorf("bucket manifest %d: %w", p.Number, err)
	}
	live := map[string]bool{}
	for _, seg := range c.Segments {
		live[seg.Name] = true
	}
	var orphans []string
	for id := from; id < c.NextID; id++ {
		name := fmt.Sprintf("%012d.seg", id)
		if live[name] {
			continue
		}
		_, err := s.Head(ctx, segmentKey(name))
		switch {
		case errors.Is(err, objstore.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			orphans = append(orphans, segmentKey(name))
		}
	}
	return orphans, nil
}

// nextID reads next_id from MANIFEST bytes (its JSON, before the CRC
// line).
func nextID(manifest []byte) (uint64, error) {
	var m struct {
		NextID uint64 `json:"next_id"`
	}
	if err := json.NewDecoder(bytes.NewReader(manifest)).Decode(&m); err != nil {
		return 0, fmt.Errorf("its MANIFEST does not parse: %w", err)
	}
	return m.NextID, nil
}
