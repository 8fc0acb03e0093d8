package tiering

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog/objstore"
)

// VerifyReport is what Verify checked.
type VerifyReport struct {
	// Manifest is the number of the latest published manifest.
	Manifest uint64
	// Segments and Bytes are the objects read and their size.
	Segments int
	Bytes    int64
	// Problems name each object missing or differing from the manifest;
	// none means the bucket holds a complete copy.
	Problems []error
}

// Verify reads every object the latest manifest published in s names and
// checks its size and SHA-256 against the manifest. An error means the
// check could not be made (no manifest, or one that does not parse);
// what it found wrong is in the report's Problems.
func Verify(ctx context.Context, s objstore.Store) (VerifyReport, error) {
	m, err := ReadLatest(ctx, s)
	if err != nil {
		return VerifyReport{}, err
	}
	if m == nil {
		return VerifyReport{}, fmt.Errorf("%s: no manifest published (%s is missing)", s, manifestKey(1))
	}
	rep := VerifyReport{Manifest: m.Number}
	for _, o := range m.Segments {
		rep.Segments++
		rep.Bytes += o.Bytes
		if err := verifyObject(ctx, s, o); err != nil {
			rep.Problems = append(rep.Problems, err)
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, nil
}

// verifyObject reads o and checks it.
func verifyObject(ctx context.Context, s objstore.Store, o Object) error {
	rc, err := s.Get(ctx, o.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("%s: missing from %s", o.Key, s)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = copyChecked(io.Discard, rc, o)
	return err
}

// copyChecked copies object o from r to w, failing if its size or
// SHA-256 differ from o's (the error names the key).
func copyChecked(w io.Writer, r io.Reader, o Object) (int64, error) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, o.Bytes+1))
	if err != nil {
		return n, fmt.Errorf("%s: read: %w", o.Key, err)
	}
	if n != o.Bytes {
		return n, fmt.Errorf("%s: %d bytes, the manifest says %d", o.Key, n, o.Bytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != o.SHA256 {
		return n, fmt.Errorf("%s: sha256 %s, the manifest says %s", o.Key, sum, o.SHA256)
	}
	return n, nil
}
