package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Dir is a Store in a local directory: each key is a file under Root (its
// '/'-separated parts become directories), its metadata a sidecar file
// KEY.meta.json. Puts are atomic (a temporary file, fsynced, then renamed,
// or hard-linked for IfNoneMatch so that an existing key is never
// replaced). It serves tests and single-machine setups.
type Dir struct {
	Root string
}

// NewDir returns a Dir rooted at root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return &Dir{Root: root}, nil
}

func (d *Dir) String() string { return "dir:" + d.Root }

// path returns the file of key, refusing keys that would leave Root.
func (d *Dir) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if key == "" || clean != "/"+key || strings.HasSuffix(key, ".meta.json") || strings.Contains(key, ".tmp-") {
		return "", fmt.Errorf("objstore: %s: invalid key %q", d, key)
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, key string, r io.ReaderAt, size int64, opts PutOptions) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("put %s/%s: %w", d, key, err)
	}
	tmp, err := writeTemp(p, io.NewSectionReader(r, 0, size), size)
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", d, key, err)
	}
	defer os.Remove(tmp)
	if opts.IfNoneMatch {
		err = os.Link(tmp, p)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("put %s/%s: %w", d, key, ErrPrecondition)
		}
	} else {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", d, key, err)
	}
	if opts.Metadata != nil {
		meta, _ := json.Marshal(opts.Metadata)
		if err := os.WriteFile(p+".meta.json", meta, 0o644); err != nil {
			return fmt.Errorf("put %s/%s: metadata: %w", d, key, err)
		}
	}
	return nil
}

// writeTemp copies size bytes of r to a new temporary file beside p and
// fsyncs it, returning its name.
func writeTemp(p string, r io.Reader, size int64) (string, error) {
	var id [6]byte
	_, _ = rand.Read(id[:])
	tmp := p + ".tmp-" + hex.EncodeToString(id[:])
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes of %d", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, d.wrap("get", key, err)
	}
	return f, nil
}

// GetRange implements Store.
func (d *Dir) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	rc, err := d.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f := rc.(*os.File)
	st, err := f.Stat()
	if err != nil {
		return nil, d.wrap("get range", key, err)
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("get range %s/%s: bad range %d+%d", d, key, off, n)
	}
	// Sized by what the file holds, not by n: a caller's n comes from a
	// manifest, which must not make us allocate more than the object.
	buf := make([]byte, max(0, min(n, st.Size()-off)))
	got, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, d.wrap("get range", key, err)
	}
	return buf[:got], nil
}

// Head implements Store.
func (d *Dir) Head(ctx context.Context, key string) (Info, error) {
	p, err := d.path(key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, d.wrap("head", key, err)
	}
	info := Info{Size: st.Size()}
	if meta, err := os.ReadFile(p + ".meta.json"); err == nil {
		if err := json.NewDecoder(bytes.NewReader(meta)).Decode(&info.Metadata); err != nil {
			return Info{}, fmt.Errorf("head %s/%s: metadata: %w", d, key, err)
		}
	}
	return info, nil
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	for _, f := range []string{p, p + ".meta.json"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return d.wrap("delete", key, err)
		}
	}
	return nil
}

// wrap names the operation and key, turning a missing file into
// ErrNotFound.
func (d *Dir) wrap(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s/%s: %w", op, d, key, ErrNotFound)
	}
	return fmt.Errorf("%s %s/%s: %w", op, d, key, err)
}
