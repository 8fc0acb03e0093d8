// Package vfs is the narrow file-system seam of the engine. Everything that
// touches disk (the WAL, the registry, the lock, later segments) goes through
// an FS, so tests can inject fsync failures and full disks without root or
// special mounts. OS is the real implementation; Faulty wraps any FS and fails
// chosen operations.
package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is the subset of *os.File the engine uses.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Seeker
	io.Closer
	Name() string
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Fd() uintptr
}

// FS is the subset of package os the engine uses.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(path string, perm fs.FileMode) error
	ReadDir(name string) ([]fs.DirEntry, error)
	Stat(name string) (fs.FileInfo, error)
	// SyncDir fsyncs a directory, making the creation, renaming and removal
	// of its entries durable.
	SyncDir(path string) error
}

// OS is the FS of the host operating system.
type OS struct{}

// OpenFile opens a file with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Rename renames with os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove removes with os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// MkdirAll creates directories with os.MkdirAll.
func (OS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// ReadDir lists a directory with os.ReadDir, sorted by name.
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// Stat stats with os.Stat.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// SyncDir opens the directory and fsyncs it.
func (OS) SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteFileAtomic replaces path with data crash-safely: it writes path+".tmp",
// fsyncs it, renames it over path and fsyncs the directory. After a crash the
// file holds either the old or the new content, never a mix.
func WriteFileAtomic(fsys FS, path string, data []byte) error {
	return WriteFileAtomicMode(fsys, path, data, 0o644)
}

// WriteFileAtomicMode is WriteFileAtomic creating the file with perm (0600
// for a file holding a secret).
func WriteFileAtomicMode(fsys FS, path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil { // a failed rename changed nothing
		return err
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%w: %w", ErrMaybeReplaced, err)
	}
	return nil
}

// ErrMaybeReplaced marks an error of WriteFileAtomic raised after the
// rename, by the directory's fsync: the file holds the new content now, but
// after a crash it may hold the old one. A
// caller must then treat both as possible: it may delete nothing that
// either names.
var ErrMaybeReplaced = errors.New("the file may or may not have been replaced")

// ReadFile reads a whole (small) file through fsys.
func ReadFile(fsys FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// MkdirAllDurable is MkdirAll that also makes the new directories' names
// durable: it fsyncs the parent of each directory it created, so a power
// cut cannot take away a directory (and with it the files inside) whose
// files were fsynced.
func MkdirAllDurable(fsys FS, path string, perm fs.FileMode) error {
	path = filepath.Clean(path)
	var created []string
	for p := path; ; p = filepath.Dir(p) {
		if _, err := fsys.Stat(p); err == nil || !errors.Is(err, fs.ErrNotExist) || p == filepath.Dir(p) {
			break
		}
		created = append(created, p)
	}
	if err := fsys.MkdirAll(path, perm); err != nil {
		return err
	}
	for _, p := range created {
		if err := fsys.SyncDir(filepath.Dir(p)); err != nil {
			return err
		}
	}
	return nil
}
