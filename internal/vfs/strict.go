package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Strict is an FS over a real directory tree that remembers what was made
// durable: the content of each file as of its last Sync, and the entries of
// each directory (creates, renames, removes, subdirectories) as of its last
// SyncDir. CrashClone writes what a power cut at that moment would leave —
// only synced data under synced names, optionally with the unsynced tail of
// an appended file torn — so a test can reopen it and check that nothing
// acknowledged was lost. kill -9 cannot show this: the page cache survives
// it, so a missing or misordered fsync goes unseen.
//
// Strict follows Linux's strict reading of fsync: a new file's name is
// durable only once its directory is synced, a rename only once the
// directories of both names are, and a file's data only once the file is
// synced. Paths outside Root pass through untracked. It is for tests; it
// keeps every synced file's content in memory.
type Strict struct {
	// Root is the tracked directory tree.
	Root string
	fs   FS

	mu    sync.Mutex
	dirs  map[string]*strictDir // by clean path
	ops   int
	hooks []func(op Op, path string, n int)
}

// strictNode is one file or directory: an identity that names point to.
type strictNode struct {
	dir    bool
	synced []byte // a file's content at its last Sync
	path   string // current name; "" once removed
}

// strictDir is a directory's entries now and as of its last SyncDir.
type strictDir struct {
	node    *strictNode
	live    map[string]*strictNode
	durable map[string]*strictNode
}

// OpMkdir and OpRemove are the other operations Strict counts (with
// OpWrite, OpSync, OpCreate and OpRename); OpSyncDir is a directory's
// fsync.
const (
	OpMkdir   Op = "mkdir"
	OpRemove  Op = "remove"
	OpSyncDir Op = "syncdir"
)

// NewStrict tracks root (created if missing) through fsys; what root holds
// now counts as durable.
func NewStrict(fsys FS, root string) (*Strict, error) {
	root = filepath.Clean(root)
	if err := fsys.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	s := &Strict{Root: root, fs: fsys, dirs: map[string]*strictDir{}}
	if err := s.adopt(root, &strictNode{dir: true, path: root}); err != nil {
		return nil, fmt.Errorf("vfs: track %s: %w", root, err)
	}
	return s, nil
}

// adopt records dir and everything under it as durable.
func (s *Strict) adopt(dir string, node *strictNode) error {
	d := &strictDir{node: node, live: map[string]*strictNode{}, durable: map[string]*strictNode{}}
	s.dirs[dir] = d
	entries, err := s.fs.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		n := &strictNode{dir: e.IsDir(), path: p}
		if n.dir {
			if err := s.adopt(p, n); err != nil {
				return err
			}
		} else if n.synced, err = ReadFile(s.fs, p); err != nil {
			return err
		}
		d.live[e.Name()], d.durable[e.Name()] = n, n
	}
	return nil
}

// OnOp calls hook before every counted operation with its kind, path and
// number (1, 2, ...), under Strict's lock: a CrashClone there sees the
// state just before the operation. Tests cut power at a chosen number.
func (s *Strict) OnOp(hook func(op Op, path string, n int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, hook)
}

// Ops is how many operations have been counted.
func (s *Strict) Ops() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops
}

// count numbers an operation and runs the hooks; s.mu is held.
func (s *Strict) count(op Op, path string) {
	s.ops++
	for _, h := range s.hooks {
		h(op, path, s.ops)
	}
}

// under reports whether path is strictly inside Root.
func (s *Strict) under(path string) bool {
	return strings.HasPrefix(filepath.Clean(path), s.Root+string(filepath.Separator))
}

// tracked returns the directory state of path's parent, or nil when path
// is not inside Root or its parent is unknown.
func (s *Strict) tracked(path string) (*strictDir, string) {
	if !s.under(path) {
		return nil, ""
	}
	path = filepath.Clean(path)
	return s.dirs[filepath.Dir(path)], filepath.Base(path)
}

// OpenFile opens through the wrapped FS, recording a created file.
func (s *Strict) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if flag&os.O_CREATE != 0 {
		s.count(OpCreate, name)
	}
	f, err := s.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	d, base := s.tracked(name)
	if d == nil {
		return f, nil
	}
	n := d.live[base]
	if n == nil {
		n = &strictNode{path: filepath.Clean(name)}
		d.live[base] = n
	}
	return &strictFile{File: f, s: s, node: n}, nil
}

// Rename renames through the wrapped FS and moves the entry.
func (s *Strict) Rename(oldpath, newpath string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count(OpRename, oldpath)
	if err := s.fs.Rename(oldpath, newpath); err != nil {
		return err
	}
	od, obase := s.tracked(oldpath)
	nd, nbase := s.tracked(newpath)
	if od == nil || nd == nil {
		return nil
	}
	n := od.live[obase]
	delete(od.live, obase)
	if n == nil {
		return nil
	}
	n.path = filepath.Clean(newpath)
	nd.live[nbase] = n
	if n.dir {
		s.moveDirs(filepath.Clean(oldpath), n.path)
	}
	return nil
}

// moveDirs re-keys the tracked directories under a renamed one.
func (s *Strict) moveDirs(from, to string) {
	moved := map[string]*strictDir{}
	for p, d := range s.dirs {
		if p == from || strings.HasPrefix(p, from+string(filepath.Separator)) {
			delete(s.dirs, p)
			moved[to+strings.TrimPrefix(p, from)] = d
		}
	}
	for p, d := range moved {
		d.node.path = p
		s.dirs[p] = d
		for name, n := range d.live {
			n.path = filepath.Join(p, name)
		}
	}
}

// Remove removes through the wrapped FS and drops the entry.
func (s *Strict) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count(OpRemove, name)
	if err := s.fs.Remove(name); err != nil {
		return err
	}
	if d, base := s.tracked(name); d != nil {
		if n := d.live[base]; n != nil {
			n.path = ""
		}
		delete(d.live, base)
		delete(s.dirs, filepath.Clean(name))
	}
	return nil
}

// MkdirAll creates the missing directories of path, each a new entry of
// its parent that is durable once the parent is synced.
func (s *Strict) MkdirAll(path string, perm fs.FileMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path = filepath.Clean(path)
	var missing []string
	for p := path; s.under(p) && s.dirs[p] == nil; p = filepath.Dir(p) {
		missing = append(missing, p)
	}
	if len(missing) > 0 {
		s.count(OpMkdir, path)
	}
	if err := s.fs.MkdirAll(path, perm); err != nil {
		return err
	}
	for _, p := range slices.Backward(missing) {
		n := &strictNode{dir: true, path: p}
		parent, base := s.tracked(p)
		parent.live[base] = n
		s.dirs[p] = &strictDir{node: n, live: map[string]*strictNode{}, durable: map[string]*strictNode{}}
	}
	return nil
}

// ReadDir lists through the wrapped FS.
func (s *Strict) ReadDir(name string) ([]fs.DirEntry, error) { return s.fs.ReadDir(name) }

// Stat stats through the wrapped FS.
func (s *Strict) Stat(name string) (fs.FileInfo, error) { return s.fs.Stat(name) }

// SyncDir syncs through the wrapped FS and makes the directory's entries
// durable.
func (s *Strict) SyncDir(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count(OpSyncDir, path)
	if err := s.fs.SyncDir(path); err != nil {
		return err
	}
	if d := s.dirs[filepath.Clean(path)]; d != nil {
		d.durable = maps.Clone(d.live)
	}
	return nil
}

// strictFile records its content as durable at each Sync.
type strictFile struct {
	File
	s    *Strict
	node *strictNode
}

func (f *strictFile) Write(p []byte) (int, error) {
	f.s.mu.Lock()
	f.s.count(OpWrite, f.Name())
	f.s.mu.Unlock()
	return f.File.Write(p)
}

func (f *strictFile) WriteAt(p []byte, off int64) (int, error) {
	f.s.mu.Lock()
	f.s.count(OpWrite, f.Name())
	f.s.mu.Unlock()
	return f.File.WriteAt(p, off)
}

// Sync fsyncs and then remembers the file's content as durable.
func (f *strictFile) Sync() error {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.count(OpSync, f.Name())
	if err := f.File.Sync(); err != nil {
		return err
	}
	if f.node.path == "" { // removed while open: its content no longer matters
		return nil
	}
	data, err := ReadFile(f.s.fs, f.node.path)
	if err != nil {
		return fmt.Errorf("vfs: strict: read back %s: %w", f.node.path, err)
	}
	f.node.synced = data
	return nil
}

// CrashClone writes into dst (which must not exist) the tree a power cut
// would leave now: the directories and files reachable from Root through
// durable entries, each file with its synced content. With tear non-nil, a
// file whose unsynced content extends its synced content keeps a random
// part of that extension, as a torn append does.
func (s *Strict) CrashClone(dst string, tear *rand.Rand) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.CrashCloneLocked(dst, tear)
}

// CrashCloneLocked is CrashClone for a hook of OnOp, which runs with the
// lock held.
func (s *Strict) CrashCloneLocked(dst string, tear *rand.Rand) error {
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vfs: crash clone: %s already exists", dst)
	}
	return s.cloneDir(s.dirs[s.Root], dst, tear)
}

func (s *Strict) cloneDir(d *strictDir, dst string, tear *rand.Rand) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for name, n := range d.durable {
		p := filepath.Join(dst, name)
		if n.dir {
			sub := s.dirs[n.path]
			if sub == nil { // removed since: a removed directory is empty
				sub = &strictDir{}
			}
			if err := s.cloneDir(sub, p, tear); err != nil {
				return err
			}
			continue
		}
		data := n.synced
		if tear != nil && n.path != "" {
			data = s.torn(n, tear)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// torn is n's synced content plus a random prefix of what was appended
// since, when the file only grew.
func (s *Strict) torn(n *strictNode, r *rand.Rand) []byte {
	now, err := os.ReadFile(n.path)
	if err != nil || len(now) <= len(n.synced) || !slices.Equal(now[:len(n.synced)], n.synced) {
		return n.synced
	}
	return now[:len(n.synced)+r.IntN(len(now)-len(n.synced)+1)]
}
