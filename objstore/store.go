package objstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ErrNotFound is wrapped by the error of an operation on a key that holds
// no object.
var ErrNotFound = errors.New("object not found")

// ErrPrecondition is wrapped by the error of a Put with IfNoneMatch whose
// key already holds an object (HTTP 412): someone else created it first.
var ErrPrecondition = errors.New("object already exists (precondition failed)")

// Store is an object store under one prefix. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores size bytes read from r under key. The backend checks the
	// bytes it received against a checksum the client computed (S3:
	// Content-MD5 per part), so a corrupted transfer fails rather than
	// being stored. With opts.IfNoneMatch the object is created only if
	// the key is free; otherwise the error wraps ErrPrecondition. A failed
	// Put never leaves a partial object under key.
	Put(ctx context.Context, key string, r io.ReaderAt, size int64, opts PutOptions) error
	// Get returns the whole object. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange returns n bytes of the object from offset off; fewer only
	// at its end.
	GetRange(ctx context.Context, key string, off, n int64) ([]byte, error)
	// Head returns the object's size and metadata without its bytes.
	Head(ctx context.Context, key string) (Info, error)
	// Delete removes the object. Deleting a missing key is not an error
	// (S3 answers 204 for both).
	Delete(ctx context.Context, key string) error
	// String names the store (s3://bucket/prefix at endpoint, or a
	// directory) for messages.
	String() string
}

// PutOptions qualify a Put.
type PutOptions struct {
	// IfNoneMatch creates the object only if its key is free
	// (If-None-Match: *).
	IfNoneMatch bool
	// Metadata is stored with the object (S3 user metadata: lower-case
	// ASCII keys) and returned by Head.
	Metadata map[string]string
}

// Info describes a stored object.
type Info struct {
	Size     int64
	Metadata map[string]string
}

// ProbeConditionalWrites checks that s honours If-None-Match: * on Put by
// creating a probe object under probe/ twice: the second must fail with
// ErrPrecondition. It returns nil when it does, an error saying so when
// the store overwrote the object (it cannot fence a second writer), and
// any other failure wrapped. The probe object is deleted.
func ProbeConditionalWrites(ctx context.Context, s Store) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	key := "probe/conditional-" + hex.EncodeToString(id[:])
	body := []byte("eventlog conditional-write probe\n")
	put := func() error {
		return s.Put(ctx, key, bytesReaderAt(body), int64(len(body)), PutOptions{IfNoneMatch: true})
	}
	if err := put(); err != nil {
		return fmt.Errorf("probe conditional writes on %s: first create: %w", s, err)
	}
	defer func() { _ = s.Delete(context.WithoutCancel(ctx), key) }()
	err := put()
	switch {
	case errors.Is(err, ErrPrecondition):
		return nil
	case err == nil:
		return fmt.Errorf("probe conditional writes on %s: a second create with If-None-Match: * overwrote %s: this server does not support conditional writes, so it cannot stop a second writer", s, key)
	default:
		return fmt.Errorf("probe conditional writes on %s: second create: %w", s, err)
	}
}

// bytesReaderAt serves a byte slice as an io.ReaderAt.
type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// PutBytes stores data under key (a convenience over Put for small
// objects such as manifests).
func PutBytes(ctx context.Context, s Store, key string, data []byte, opts PutOptions) error {
	return s.Put(ctx, key, bytesReaderAt(data), int64(len(data)), opts)
}

// GetBytes reads the whole object under key, refusing one larger than max
// bytes (a bucket answering garbage must not exhaust memory).
func GetBytes(ctx context.Context, s Store, key string, max int64) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", s, key, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %s/%s: larger than %d bytes", s, key, max)
	}
	return data, nil
}
