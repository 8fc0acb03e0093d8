package tiering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/objstore"
)

// ReadLatest returns the latest manifest published in s, or nil when none
// was. It reads the pointer manifest/LATEST, then asks for the following
// numbers until one is missing (the pointer is written after the manifest,
// so it may lag by one): a reader never lists.
func ReadLatest(ctx context.Context, s objstore.Store) (*BucketManifest, error) {
	n, err := readPointer(ctx, s)
	if err != nil {
		return nil, err
	}
	var latest *BucketManifest
	for next := n; ; next++ {
		if next == 0 {
			continue // no pointer: start from manifest 1
		}
		m, err := readManifest(ctx, s, next)
		if errors.Is(err, objstore.ErrNotFound) {
			if latest == nil && n != 0 {
				return nil, fmt.Errorf("%s names manifest %d, which is missing from %s", latestKey, n, s)
			}
			return latest, nil
		}
		if err != nil {
			return nil, err
		}
		latest = m
	}
}

// readPointer returns the number manifest/LATEST names, 0 without one.
func readPointer(ctx context.Context, s objstore.Store) (uint64, error) {
	data, err := objstore.GetBytes(ctx, s, latestKey, 4096)
	if errors.Is(err, objstore.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the latest-manifest pointer: %w", err)
	}
	n, err := decodePointer(data)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s, err)
	}
	return n, nil
}

// readManifest reads and decodes published manifest n.
func readManifest(ctx context.Context, s objstore.Store, n uint64) (*BucketManifest, error) {
	key := manifestKey(n)
	data, err := objstore.GetBytes(ctx, s, key, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	m, err := decodeBucketManifest(data, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return m, nil
}

// ErrFenced is wrapped by the error of a writer that found another one
// publishing under its prefix.
var ErrFenced = errors.New("another writer owns this object-store prefix")

// publish creates manifest m.Number (If-None-Match: *), then points
// manifest/LATEST at it. A taken number is another writer's: the error
// wraps ErrFenced. A failed pointer write is only logged by the caller's
// next attempt: readers find the manifest past a lagging pointer.
func publish(ctx context.Context, s objstore.Store, m *BucketManifest) (pointerErr error, err error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	key := manifestKey(m.Number)
	err = objstore.PutBytes(ctx, s, key, append(data, '\n'), objstore.PutOptions{IfNoneMatch: true})
	if errors.Is(err, objstore.ErrPrecondition) {
		return nil, fmt.Errorf("%w: %s was created by someone else: %w", ErrFenced, key, err)
	}
	if err != nil {
		return nil, fmt.Errorf("publish manifest: %w", err)
	}
	ptr, _ := json.Marshal(pointer{Version: 1, Manifest: m.Number})
	return objstore.PutBytes(ctx, s, latestKey, append(ptr, '\n'), objstore.PutOptions{}), nil
}
