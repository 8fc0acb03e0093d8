package vfs

import (
	"io/fs"
	"os"
	"sync"
)

// Op names an operation that Faulty can fail.
type Op string

// The operations Faulty can fail.
const (
	OpWrite  Op = "write"
	OpSync   Op = "sync"
	OpCreate Op = "create"
	OpRename Op = "rename"
)

// Faulty wraps an FS and fails operations on demand: tests use it to simulate
// a failing fsync (EIO) or a full disk (ENOSPC). It is safe for concurrent use.
type Faulty struct {
	FS FS

	mu   sync.Mutex
	fail map[Op]fault
}

// fault is one armed failure: its error and the paths it applies to.
type fault struct {
	err   error
	match func(path string) bool // nil: every path
}

// NewFaulty wraps fsys.
func NewFaulty(fsys FS) *Faulty { return &Faulty{FS: fsys, fail: map[Op]fault{}} }

// Fail makes every later op return err until Heal(op) is called.
func (f *Faulty) Fail(op Op, err error) { f.FailIf(op, err, nil) }

// FailIf makes every later op on a path that match accepts return err until
// Heal(op) is called.
func (f *Faulty) FailIf(op Op, err error, match func(path string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = fault{err: err, match: match}
}

// Heal stops failing op.
func (f *Faulty) Heal(op Op) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.fail, op)
}

func (f *Faulty) err(op Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, ok := f.fail[op]
	if !ok || (ft.match != nil && !ft.match(path)) {
		return nil
	}
	return ft.err
}

// OpenFile opens through the wrapped FS; creating a file can be failed.
func (f *Faulty) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if flag&os.O_CREATE != 0 {
		if err := f.err(OpCreate, name); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

// Rename renames through the wrapped FS unless renames are failed.
func (f *Faulty) Rename(oldpath, newpath string) error {
	if err := f.err(OpRename, oldpath); err != nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: err}
	}
	return f.FS.Rename(oldpath, newpath)
}

// Remove removes through the wrapped FS.
func (f *Faulty) Remove(name string) error { return f.FS.Remove(name) }

// MkdirAll creates directories through the wrapped FS.
func (f *Faulty) MkdirAll(path string, perm fs.FileMode) error { return f.FS.MkdirAll(path, perm) }

// ReadDir lists through the wrapped FS.
func (f *Faulty) ReadDir(name string) ([]fs.DirEntry, error) { return f.FS.ReadDir(name) }

// Stat stats through the wrapped FS.
func (f *Faulty) Stat(name string) (fs.FileInfo, error) { return f.FS.Stat(name) }

// SyncDir syncs through the wrapped FS unless syncs are failed.
func (f *Faulty) SyncDir(path string) error {
	if err := f.err(OpSync, path); err != nil {
		return &fs.PathError{Op: "sync", Path: path, Err: err}
	}
	return f.FS.SyncDir(path)
}

type faultyFile struct {
	File
	fs *Faulty
}

// Write fails like a full disk does: part of the data may land first.
func (f *faultyFile) Write(p []byte) (int, error) {
	if err := f.fs.err(OpWrite, f.Name()); err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.Write(p)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.err(OpWrite, f.Name()); err != nil {
		n, _ := f.File.WriteAt(p[:len(p)/2], off)
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.WriteAt(p, off)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.err(OpSync, f.Name()); err != nil {
		return &fs.PathError{Op: "sync", Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}
