package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// state is one immutable version of what the store holds: the head taking
// appends, the heads waiting to be sealed (oldest first) and the live
// segments. A new state replaces the old one whenever a head rolls or a
// segment comes or goes; readers load the current state and acquire its
// segments, so what they read never changes under them.
type state struct {
	active   *head.Head
	frozen   []*head.Head
	segments []*liveSegment
	// changed is closed when this state is replaced, waking waiters.
	changed chan struct{}
}

// liveSegment is an open segment with a reference count: one reference for
// the live state, one per reader. The last release closes (unmaps) it, and
// removes its file if it was dropped from the store meanwhile.
type liveSegment struct {
	meta segmentMeta
	path string
	r    *segment.Reader
	fs   vfs.FS // removes the file of a dropped segment

	refs     atomic.Int32
	obsolete atomic.Bool
	// expiresAt caches segmentExpiresAt under retention rules; 0: unknown.
	expiresAt atomic.Int64
	// purged is meta.Purged, raised when a check finds the segment clean
	// of newer tombstones.
	purged atomic.Uint64
	// onRemoved is told the name of a dropped segment's removed file;
	// tests use it to watch lifetimes.
	onRemoved func(name string)
}

func newLiveSegment(fsys vfs.FS, meta segmentMeta, path string, r *segment.Reader) *liveSegment {
	s := &liveSegment{meta: meta, path: path, r: r, fs: fsys}
	s.refs.Store(1)
	s.purged.Store(meta.Purged)
	return s
}

// acquire takes a reference, failing once the count has reached zero.
func (s *liveSegment) acquire() bool {
	for n := s.refs.Load(); n > 0; n = s.refs.Load() {
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
	return false
}

// release drops a reference; the last one closes the reader and, for a
// dropped segment, removes its file.
func (s *liveSegment) release() error {
	n := s.refs.Add(-1)
	if n > 0 {
		return nil
	}
	if n < 0 {
		panic("eventlog: segment released more often than acquired")
	}
	err := s.r.Close()
	if s.obsolete.Load() {
		if rerr := s.fs.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove dropped segment %s: %w", s.path, rerr))
		}
		if s.onRemoved != nil {
			s.onRemoved(s.meta.Name)
		}
	}
	return err
}

// view is what one read sees: the state's heads and references to its
// segments, released by close.
type view struct {
	heads    []*head.Head
	segments []*liveSegment
}

// acquireView takes a consistent view of the current state. A segment
// dropped between loading the state and acquiring it makes the whole view
// retry, so a reader never sees half of a change.
func (db *DB) acquireView() view {
	for {
		st := db.state.Load()
		v := view{heads: append(append(make([]*head.Head, 0, len(st.frozen)+1), st.frozen...), st.active)}
		ok := true
		for _, s := range st.segments {
			if !s.acquire() {
				ok = false
				break
			}
			v.segments = append(v.segments, s)
		}
		if ok {
			return v
		}
		v.close()
	}
}

func (v view) close() {
	for _, s := range v.segments {
		s.release()
	}
}

// dropSegments removes the named segments from the store (see
// replaceSegments). Retention will decide what to drop; this is the
// mechanism.
func (db *DB) dropSegments(names ...string) error {
	_, err := db.replaceSegments(names, nil)
	return err
}
