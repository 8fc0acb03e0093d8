package tiering

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// fetchSegment makes segment object o's bytes available to the node's
// store at segments/NAME of its directory: the one place a node obtains a
// segment's bytes. A file already there from an earlier manifest (or an
// earlier run) of the same size is kept (names are never reused, and the
// segment's own checksums are checked when it is opened); otherwise the
// whole object is downloaded through NAME.tmp, its size and SHA-256
// checked against the manifest before it is renamed into place. An
// object missing from the bucket wraps objstore.ErrNotFound.
func (f *Follower) fetchSegment(ctx context.Context, o Object) error {
	path := filepath.Join(f.cfg.Dir, "segments", o.Name)
	if st, err := os.Stat(path); err == nil && st.Size() == o.Bytes {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout+time.Duration(o.Bytes>>20)*time.Second)
	defer cancel()
	if err := pullObject(ctx, f.store, o, path); err != nil {
		return fmt.Errorf("download segment %s from %s: %w", o.Name, f.store, err)
	}
	f.count(func(c *followCounters) { c.downloads++; c.downloadBytes += o.Bytes })
	return nil
}
