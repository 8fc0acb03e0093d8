package tiering

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
)

// upload puts one segment file to segments/NAME, created only if the key
// is free. A taken key holding the same bytes (same size and SHA-256: an
// earlier run uploaded it and stopped before publishing) is this segment;
// one holding other bytes is another writer's, and the error wraps
// ErrFenced.
func (u *Uploader) upload(ctx context.Context, seg eventlog.SegmentFile) (Object, error) {
	f, err := os.Open(seg.Path)
	if err != nil {
		return Object{}, fmt.Errorf("upload segment %s: %w", seg.Name, err)
	}
	defer f.Close()
	o := Object{Name: seg.Name, Key: segmentKey(seg.Name), Bytes: seg.Bytes}
	if o.SHA256, err = fileSHA256(f, seg.Bytes); err != nil {
		return Object{}, fmt.Errorf("upload segment %s: %w", seg.Name, err)
	}
	ctx, cancel := u.requestContext(ctx, o.Bytes)
	defer cancel()
	err = u.store.Put(ctx, o.Key, f, o.Bytes, objstore.PutOptions{IfNoneMatch: true, Metadata: map[string]string{"sha256": o.SHA256}})
	if errors.Is(err, objstore.ErrPrecondition) {
		err = sameObject(ctx, u.store, o)
	}
	if err != nil {
		return Object{}, fmt.Errorf("upload segment %s: %w", seg.Name, err)
	}
	return o, nil
}

// fileSHA256 hashes f, which must be size bytes long (the manifest's
// size: a file of another size is not the segment the manifest names).
func fileSHA256(f *os.File, size int64) (string, error) {
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if st.Size() != size {
		return "", fmt.Errorf("%s is %d bytes, the manifest says %d", f.Name(), st.Size(), size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sameObject checks that the object at o.Key is o.
func sameObject(ctx context.Context, s objstore.Store, o Object) error {
	info, err := s.Head(ctx, o.Key)
	if err != nil {
		return err
	}
	if info.Size != o.Bytes || info.Metadata["sha256"] != o.SHA256 {
		return fmt.Errorf("%w: %s already holds another object (%d bytes, sha256 %q; ours: %d bytes, %s)",
			ErrFenced, o.Key, info.Size, info.Metadata["sha256"], o.Bytes, o.SHA256)
	}
	return nil
}
