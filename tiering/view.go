package tiering

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/segment"
)

// View is a reader of every segment one published manifest names, opened
// through a Cache: what a read of the bucket's sealed data runs over.
type View struct {
	// Manifest is the published manifest the view reads.
	Manifest *BucketManifest
	// Readers are its segments' readers, in the manifest's order.
	Readers []*segment.Reader

	c      *Cache
	pinned int64 // bytes of pinned parts the readers hold, charged
}

// OpenView opens every segment m names through the cache. The pinned
// parts its readers of evicted segments hold in memory are charged to the
// memory budget (account "object_store_pinned") until Close, which
// releases the readers.
func (c *Cache) OpenView(ctx context.Context, m *BucketManifest) (*View, error) {
	v := &View{Manifest: m, c: c}
	for _, o := range m.Segments {
		r, pinned, err := c.open(ctx, o)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("tiering: view of manifest %d: %w", m.Number, err)
		}
		v.Readers = append(v.Readers, r)
		v.pinned += pinned
		c.pinned.Charge(pinned)
	}
	return v, nil
}

// Close closes the view's readers. It is idempotent.
func (v *View) Close() {
	for _, r := range v.Readers {
		r.Close()
	}
	v.Readers = nil
	v.c.pinned.Release(v.pinned)
	v.pinned = 0
}

// maxReloads bounds how often Do reads a newer manifest after a 404: each
// takes a manifest published within the delete grace, so more than a few
// in a row means the grace is shorter than a read, which retrying cannot
// fix.
const maxReloads = 3

// Do runs read over a view of manifest m (nil: the latest published) and
// returns the manifest whose view answered. When read (or opening the
// view) fails because an object is gone — the manifest was superseded
// and, the delete grace past, the writer deleted the segments it alone
// named (404) — Do reads the latest manifest and runs read again on it,
// up to 3 times; any other error is returned as it is, and so is a 404
// on a manifest that is still the latest (the bucket lost an object it
// names: objstore verify says which). read must not keep the readers.
func (c *Cache) Do(ctx context.Context, m *BucketManifest, read func(*View) error) (*BucketManifest, error) {
	for attempt := 0; ; attempt++ {
		if m == nil {
			var err error
			if m, err = ReadLatest(ctx, c.store); err != nil {
				return nil, err
			}
			if m == nil {
				return nil, fmt.Errorf("tiering: %s holds no published manifest", c.store)
			}
		}
		err := c.doOnce(ctx, m, read)
		if !errors.Is(err, objstore.ErrNotFound) || attempt == maxReloads {
			return m, err
		}
		latest, lerr := ReadLatest(ctx, c.store)
		if lerr != nil {
			return m, errors.Join(err, lerr)
		}
		if latest == nil || latest.Number == m.Number {
			return m, fmt.Errorf("%w (manifest %d, the latest, names it)", err, m.Number)
		}
		c.mu.Lock()
		c.st.Reloads++
		c.mu.Unlock()
		m = latest
	}
}

func (c *Cache) doOnce(ctx context.Context, m *BucketManifest, read func(*View) error) error {
	v, err := c.OpenView(ctx, m)
	if err != nil {
		return err
	}
	defer v.Close()
	return read(v)
}
