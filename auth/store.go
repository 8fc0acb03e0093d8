package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// FileName is the key file's name in the data directory.
const FileName = "keys.json"

// fileVersion is the version of keys.json this package writes; it refuses
// to read a newer one.
const fileVersion = 1

// Errors of the store.
var (
	// ErrInvalid marks a bad key spec or a damaged key file.
	ErrInvalid = errors.New("invalid key")
	// ErrNotFound: no key has that id.
	ErrNotFound = errors.New("no such key")
	// ErrUnauthenticated is wrapped by every failure of Authenticate.
	ErrUnauthenticated = errors.New("not authenticated")
)

// Why Authenticate refused a key: each wraps ErrUnauthenticated. Reason
// names them in metrics and audit events.
var (
	ErrUnknownKey  = &failure{"unknown_key", "no key has that id"}
	ErrWrongSecret = &failure{"wrong_secret", "the secret does not match the key"}
	ErrRevoked     = &failure{"revoked", "the key is revoked"}
	ErrExpired     = &failure{"expired", "the key has expired"}
)

type failure struct{ reason, text string }

func (f *failure) Error() string { return f.text }
func (f *failure) Unwrap() error { return ErrUnauthenticated }

// Reason is a short word for why a request was not authenticated: one of
// no_credentials, malformed, unknown_key, wrong_secret, revoked, expired.
func Reason(err error) string {
	var f *failure
	switch {
	case errors.As(err, &f):
		return f.reason
	case errors.Is(err, ErrNoCredentials):
		return "no_credentials"
	}
	return "malformed"
}

// Store holds the keys of one data directory. It is safe for concurrent
// use: Authenticate reads an immutable snapshot without a lock, and a
// change (Create, Revoke) replaces the file, then the snapshot.
type Store struct {
	fsys vfs.FS
	path string
	mu   sync.Mutex // serialises changes and writes of the file
	set  atomic.Pointer[keySet]
	// onChange is told of every Create and Revoke (publish.go).
	onChange func()
}

// keySet is one immutable version of the keys, by id and in creation
// order.
type keySet struct {
	byID  map[string]*entry
	order []*entry
}

// entry is a key, its secret's hash and when it was last used (Unix ns, in
// memory; flushed holds what the file has, under Store.mu).
type entry struct {
	key      Key
	hash     digest
	lastUsed atomic.Int64
	flushed  int64
}

// record is a key as keys.json holds it.
type record struct {
	Key
	Hash digest `json:"hash"`
}

// keyFile is keys.json.
type keyFile struct {
	Version int      `json:"version"`
	Keys    []record `json:"keys"`
}

// Open reads dir's key file through fsys (nil: the OS's); a directory
// without one has no keys.
func Open(fsys vfs.FS, dir string) (*Store, error) {
	if fsys == nil {
		fsys = vfs.OS{}
	}
	s := &Store{fsys: fsys, path: filepath.Join(dir, FileName)}
	set := &keySet{byID: map[string]*entry{}}
	data, err := vfs.ReadFile(fsys, s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("auth: read %s: %w", s.path, err)
	default:
		if set, err = decodeFile(data); err != nil {
			return nil, fmt.Errorf("auth: %s: %w", s.path, err)
		}
	}
	s.set.Store(set)
	return s, nil
}

// decodeFile parses and checks keys.json.
func decodeFile(data []byte) (*keySet, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if f.Version < 1 || f.Version > fileVersion {
		return nil, fmt.Errorf("%w: version %d: this binary reads version %d", ErrInvalid, f.Version, fileVersion)
	}
	set := &keySet{byID: make(map[string]*entry, len(f.Keys))}
	for i, r := range f.Keys {
		spec := Spec{Name: r.Name, Role: r.Role, Spaces: r.Spaces}
		if err := spec.validate(); err != nil {
			return nil, fmt.Errorf("key %d (%s): %w", i+1, r.ID, err)
		}
		if r.ID == "" || set.byID[r.ID] != nil {
			return nil, fmt.Errorf("%w: key %d: id %q is empty or repeated", ErrInvalid, i+1, r.ID)
		}
		e := &entry{key: r.Key, hash: r.Hash}
		e.key.LastUsed = time.Time{}
		if !r.LastUsed.IsZero() {
			e.flushed = r.LastUsed.UnixNano()
			e.lastUsed.Store(e.flushed)
		}
		set.add(e)
	}
	return set, nil
}

func (set *keySet) add(e *entry) {
	set.byID[e.key.ID] = e
	set.order = append(set.order, e)
}

// HasKeys reports whether the directory holds any key, revoked or
// expired ones included: once it does, every request needs one.
func (s *Store) HasKeys() bool { return len(s.set.Load().order) > 0 }

// Create makes a key from spec at now and stores its hash. It returns the
// key and its secret, which nothing keeps: the caller shows it once.
func (s *Store) Create(spec Spec, now time.Time) (Key, string, error) {
	if err := spec.validate(); err != nil {
		return Key{}, "", err
	}
	now = now.UTC().Truncate(time.Second)
	secret := newSecret()
	e := &entry{hash: hashSecret([]byte(secret)), key: Key{
		ID: newID(), Name: spec.Name, Role: spec.Role, Spaces: slices.Clone(spec.Spaces), Created: now,
	}}
	if spec.TTL > 0 {
		e.key.Expires = now.Add(spec.TTL)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.set.Load().clone()
	next.add(e)
	if err := s.write(next); err != nil {
		return Key{}, "", err
	}
	s.set.Store(next)
	s.changed()
	return e.key, secret, nil
}

// Revoke revokes the key id at now: from the next request on it
// authenticates nothing. Revoking a revoked key changes nothing. The
// revocation takes effect in memory even when writing the file fails
// (the error says so): a key must not stay usable because a disk is full.
func (s *Store) Revoke(id string, now time.Time) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.set.Load()
	old := cur.byID[id]
	if old == nil {
		return Key{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if !old.key.Revoked.IsZero() {
		return s.described(old), nil
	}
	next := &keySet{byID: make(map[string]*entry, len(cur.order))}
	for _, e := range cur.order {
		if e == old {
			e = &entry{key: old.key, hash: old.hash, flushed: old.flushed}
			e.key.Revoked = now.UTC().Truncate(time.Second)
			e.lastUsed.Store(old.lastUsed.Load())
		}
		next.add(e)
	}
	err := s.write(next)
	s.set.Store(next)
	s.changed()
	if err != nil {
		return s.described(next.byID[id]), fmt.Errorf("auth: the key is revoked until the server restarts, but writing %s failed: %w", s.path, err)
	}
	return s.described(next.byID[id]), nil
}

func (set *keySet) clone() *keySet {
	next := &keySet{byID: make(map[string]*entry, len(set.order)+1)}
	for _, e := range set.order {
		next.add(e)
	}
	return next
}

// List returns every key, in creation order, with when it was last used.
func (s *Store) List() []Key {
	set := s.set.Load()
	out := make([]Key, len(set.order))
	for i, e := range set.order {
		out[i] = s.described(e)
	}
	return out
}

// Get returns the key id.
func (s *Store) Get(id string) (Key, bool) {
	e := s.set.Load().byID[id]
	if e == nil {
		return Key{}, false
	}
	return s.described(e), true
}

func (s *Store) described(e *entry) Key {
	k := e.key
	k.Spaces = slices.Clone(k.Spaces)
	if n := e.lastUsed.Load(); n != 0 {
		k.LastUsed = time.Unix(0, n).UTC()
	}
	return k
}

// lastUsedStep is how stale "last used" may be in memory: Authenticate
// writes it at most once a second per key, so that busy keys do not
// contend on it.
const lastUsedStep = int64(time.Second)

// Authenticate returns the key c names if c's secret is its own and it is
// active at now, and notes its use. The returned *Key is shared and must
// not be changed. Every error wraps ErrUnauthenticated (see Reason). It
// allocates nothing.
func (s *Store) Authenticate(c *Credentials, now time.Time) (*Key, error) {
	e := s.set.Load().byID[string(c.ID())]
	if e == nil {
		return nil, ErrUnknownKey
	}
	if !e.hash.matches(c.Secret()) {
		return nil, ErrWrongSecret
	}
	switch {
	case !e.key.Revoked.IsZero():
		return nil, ErrRevoked
	case !e.key.Expires.IsZero() && !now.Before(e.key.Expires):
		return nil, ErrExpired
	}
	if t := now.UnixNano(); t-e.lastUsed.Load() >= lastUsedStep {
		e.lastUsed.Store(t)
	}
	return &e.key, nil
}

// Active reports whether the key id exists and is active at now: how open
// streams learn that their key was revoked or has expired.
func (s *Store) Active(id string, now time.Time) bool {
	e := s.set.Load().byID[id]
	return e != nil && e.key.Active(now)
}

// FlushLastUsed writes the key file if a key was used since the last
// flush. The server calls it periodically and when it stops.
func (s *Store) FlushLastUsed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.set.Load()
	dirty := false
	for _, e := range set.order {
		dirty = dirty || e.lastUsed.Load() != e.flushed
	}
	if !dirty {
		return nil
	}
	return s.write(set)
}

// write replaces the key file with set (mode 0600, atomically) and marks
// the last-used times it wrote as flushed. Called with mu held.
func (s *Store) write(set *keySet) error {
	f := keyFile{Version: fileVersion, Keys: make([]record, len(set.order))}
	used := make([]int64, len(set.order))
	for i, e := range set.order {
		used[i] = e.lastUsed.Load()
		f.Keys[i] = record{Key: e.key, Hash: e.hash}
		if used[i] != 0 {
			f.Keys[i].LastUsed = time.Unix(0, used[i]).UTC()
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: encode keys: %w", err)
	}
	if err := vfs.WriteFileAtomicMode(s.fsys, s.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("auth: write %s: %w", s.path, err)
	}
	for i, e := range set.order {
		e.flushed = used[i]
	}
	return nil
}
