package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/query"
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
	path string // "": opened by Options.OpenSegment, not from a file of the store
	r    *segment.Reader
	fs   vfs.FS // removes the file of a dropped segment

	refs     atomic.Int32
	obsolete atomic.Bool
	// expiresAt caches segmentExpiresAt under retention rules; 0: unknown.
	expiresAt atomic.Int64
	// held caches segmentHeld for the holds of generation heldGen-1
	// (heldGen 0: unknown): a segment never changes, so only a change of
	// the holds makes retention read it again.
	held    atomic.Bool
	heldGen atomic.Uint64
	// purged is meta.Purged, raised when a check finds the segment clean
	// of newer tombstones.
	purged atomic.Uint64
	// onRemoved is told the name of a dropped segment's removed file;
	// tests use it to watch lifetimes.
	onRemoved func(name string)
	// removedDurably is called once a dropped segment's file is removed
	// and its directory fsynced, so no crash can bring the file back.
	removedDurably func()
	// mem holds r.MemoryBytes() (charged) from open to the last release.
	mem     *memory.Account
	charged int64
}

// newLiveSegment wraps an open reader, charging what it holds in memory to
// mem (AccountSegments) until its last release closes it: memory already
// held, so Charge, never a wait.
func newLiveSegment(fsys vfs.FS, meta segmentMeta, path string, r *segment.Reader, mem *memory.Account) *liveSegment {
	s := &liveSegment{meta: meta, path: path, r: r, fs: fsys, mem: mem, charged: r.MemoryBytes()}
	s.refs.Store(1)
	s.purged.Store(meta.Purged)
	mem.Charge(s.charged)
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
	s.mem.Release(s.charged)
	if s.obsolete.Load() && s.path == "" && s.removedDurably != nil {
		// A writer's offloaded segment: no file of ours to remove, and
		// the manifest no longer names it, so no crash brings it back.
		s.removedDurably()
	}
	if s.obsolete.Load() && s.path != "" { // "": Options.OpenSegment's, no file of ours
		if rerr := s.fs.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove dropped segment %s: %w", s.path, rerr))
		} else if serr := s.fs.SyncDir(filepath.Dir(s.path)); serr != nil {
			err = errors.Join(err, fmt.Errorf("remove dropped segment %s: %w", s.path, serr))
		} else if s.removedDurably != nil {
			s.removedDurably()
		}
		if s.onRemoved != nil {
			s.onRemoved(s.meta.Name)
		}
	}
	return err
}

// view is what one read sees: the state's heads, references to its
// segments, and the damaged segments set aside (damage.go), whose readable
// ones it also holds; close releases them.
type view struct {
	heads    []*head.Head
	segments []*liveSegment
	damaged  []*damagedSegment
}

// acquireView takes a consistent view of the current state. A segment
// dropped between loading the state and acquiring it makes the whole view
// retry, so a reader never sees half of a change. The damaged segments are
// loaded after the state (a segment being set aside is published there
// first), and one in both counts as damaged.
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
		if ok && v.acquireDamaged(db.damage.load()) {
			return v
		}
		v.close()
	}
}

// acquireDamaged adds the damaged segments to v, taking a reference on
// each readable one and dropping it from v's live segments.
func (v *view) acquireDamaged(damaged []*damagedSegment) bool {
	for _, d := range damaged {
		if d.seg != nil {
			if !d.seg.acquire() {
				return false
			}
			if i := slices.Index(v.segments, d.seg); i >= 0 {
				v.segments = slices.Delete(v.segments, i, i+1)
				d.seg.release()
			}
		}
		v.damaged = append(v.damaged, d)
	}
	return true
}

func (v view) close() {
	for _, s := range v.segments {
		s.release()
	}
	for _, d := range v.damaged {
		if d.seg != nil {
			d.seg.release()
		}
	}
}

// readSnapshot is what one read sees: a view, its watermark, the
// tombstones visible at it, and the rows they hide per source.
type readSnapshot struct {
	view
	pub        uint64
	tombs      tombstones
	headSnaps  []*head.Snapshot
	headHidden []*roaring.Bitmap
	segHidden  []*roaring.Bitmap
	damHidden  []*roaring.Bitmap // of the view's readable damaged segments
	anyHidden  bool
}

// acquireSnapshot takes a consistent snapshot for a read: the watermark
// first (every row up to it is in the view), then the tombstones (every
// one visible at the watermark was installed before it was published),
// then the view (so a tombstone retired meanwhile only finds sources it is
// purged from). The caller closes it.
func (db *DB) acquireSnapshot(ctx context.Context) (*readSnapshot, error) {
	pub := db.published.Load()
	tombs := db.tombs.Load().upTo(pub)
	rs := &readSnapshot{view: db.acquireView(), pub: pub, tombs: tombs}
	for _, h := range rs.heads {
		rs.headSnaps = append(rs.headSnaps, h.SnapshotAt(pub))
	}
	if len(tombs) == 0 {
		return rs, nil
	}
	rs.headHidden = make([]*roaring.Bitmap, len(rs.heads))
	for i, h := range rs.heads {
		hidden, err := db.hiddenRows(ctx, h, rs.headSnaps[i], h.Stats().FirstSeq, 0, tombs)
		if err != nil {
			rs.close()
			return nil, err
		}
		rs.headHidden[i] = hidden
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	rs.segHidden = make([]*roaring.Bitmap, len(rs.segments))
	for i, s := range rs.segments {
		hidden, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), tombs)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("segment %s: %w", s.meta.Name, err)
		}
		rs.segHidden[i] = hidden
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	for _, s := range rs.readableDamaged() {
		hidden, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), tombs)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("segment %s: %w", s.meta.Name, err)
		}
		rs.damHidden = append(rs.damHidden, hidden)
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	return rs, nil
}

// readableDamaged returns the damaged segments whose intact blocks can be
// read, in the view's order.
func (v view) readableDamaged() []*liveSegment {
	var out []*liveSegment
	for _, d := range v.damaged {
		if d.seg != nil {
			out = append(out, d.seg)
		}
	}
	return out
}

// query is the snapshot as the query executor takes it.
func (rs *readSnapshot) query() query.Snapshot {
	snap := query.Snapshot{MaxSeq: rs.pub}
	for _, s := range rs.headSnaps {
		snap.Sources = append(snap.Sources, s)
	}
	for _, s := range rs.segments {
		snap.Sources = append(snap.Sources, s.r)
	}
	if rs.anyHidden {
		snap.Hidden = append(append(snap.Hidden, rs.headHidden...), rs.segHidden...)
		snap.Hidden = append(snap.Hidden, rs.damHidden...)
	}
	for _, d := range rs.damaged {
		src := -1
		if d.seg != nil {
			src = len(snap.Sources)
			snap.Sources = append(snap.Sources, d.seg.r)
		}
		for _, dm := range d.damage {
			dm.Source = src
			snap.Damaged = append(snap.Damaged, dm)
		}
	}
	return snap
}
