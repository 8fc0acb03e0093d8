package tiering

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/eventlogdb/eventlog"
)

// reopener keeps a store's open segments in step with its Cache, from a
// goroutine of its own (the cache's callbacks run under its lock and
// must not call back into it or the store):
//
//   - a whole segment the cache evicted is reopened over its pinned part:
//     the store's reader of the whole file would otherwise keep the
//     evicted file's blocks on disk (the mapping outlives the name) for as
//     long as the segment is live;
//   - a segment whose ranged reads made it hot (Cache.hotLocked) while
//     open is downloaded whole and reopened over that file: hot
//     promotion, without waiting for the segment's next Open;
//   - on a writer, a segment a published manifest names and the store
//     still holds in segments/ is taken into the cache (Cache.Add) and
//     reopened through it, which removes it from segments/ (offload).
//
// eventlog.DB.ReopenSegments does the swap; reads already running keep
// the readers they hold. start begins, stop ends the goroutine.
type reopener struct {
	c   *Cache
	log *slog.Logger
	// offload, when set (a writer), takes the published segments the
	// store still holds locally into the cache, returning their names.
	offload func(ctx context.Context, db *eventlog.DB) []string

	mu      sync.Mutex
	evicted map[string]bool
	hot     map[string]Object
	wake    chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

// newReopener hooks a reopener to c's evictions and hot segments.
func newReopener(c *Cache, log *slog.Logger) *reopener {
	r := &reopener{c: c, log: log, evicted: map[string]bool{}, hot: map[string]Object{}, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.onEvict, c.onHot = r.noteEvicted, r.noteHot
	c.mu.Unlock()
	return r
}

// noteEvicted records an eviction (called under the cache's lock).
func (r *reopener) noteEvicted(name string) {
	r.mu.Lock()
	r.evicted[name] = true
	r.mu.Unlock()
	r.kick()
}

// noteHot records a segment found hot while open (called under the
// cache's lock).
func (r *reopener) noteHot(o Object) {
	r.mu.Lock()
	r.hot[o.Name] = o
	r.mu.Unlock()
	r.kick()
}

// kick wakes the goroutine.
func (r *reopener) kick() {
	select {
	case r.wake <- struct{}{}:
	default: // one is pending already
	}
}

// start runs the goroutine over db until stop.
func (r *reopener) start(db *eventlog.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go r.run(ctx, db)
	r.kick() // what an earlier run left to offload
}

// stop ends the goroutine and waits for it. Idempotent.
func (r *reopener) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel = nil
}

func (r *reopener) run(ctx context.Context, db *eventlog.DB) {
	defer close(r.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		if err := r.step(ctx, db); errors.Is(err, eventlog.ErrClosed) || ctx.Err() != nil {
			return
		} else if err != nil {
			// The segment stays as it is open (whole, or ranged reads):
			// correct, only the disk or speed it costs differs. The next
			// eviction, promotion or publish tries again.
			r.log.Warn("tiering: cache: could not reopen segments the cache moved", "err", err)
		}
	}
}

// step offloads, promotes and reopens what was noted since the last step.
func (r *reopener) step(ctx context.Context, db *eventlog.DB) error {
	var names []string
	if r.offload != nil {
		names = r.offload(ctx, db)
	}
	r.mu.Lock()
	hot, evicted := r.hot, r.evicted
	r.hot, r.evicted = map[string]Object{}, map[string]bool{}
	r.mu.Unlock()
	var errs []error
	for _, o := range hot {
		if err := r.c.promote(ctx, o); err != nil {
			errs = append(errs, err)
			continue
		}
		names = append(names, o.Name)
	}
	r.mu.Lock() // promotions may have evicted others
	for name := range r.evicted {
		evicted[name] = true
	}
	r.evicted = map[string]bool{}
	r.mu.Unlock()
	if len(names) > 0 {
		errs = append(errs, db.ReopenSegments(names...))
	}
	if len(evicted) > 0 {
		errs = append(errs, r.reopenEvicted(db, evicted))
	}
	return errors.Join(errs...)
}

// reopenEvicted reopens the evicted segments over their pinned parts:
// marked reopening, so that an Open finding one hot does not download it
// again.
func (r *reopener) reopenEvicted(db *eventlog.DB, evicted map[string]bool) error {
	var names []string
	r.c.mu.Lock()
	for name := range evicted {
		r.c.reopening[name] = true
		names = append(names, name)
	}
	r.c.mu.Unlock()
	defer func() {
		r.c.mu.Lock()
		for _, name := range names {
			delete(r.c.reopening, name)
		}
		r.c.mu.Unlock()
	}()
	return db.ReopenSegments(names...)
}

// promote downloads o whole unless the cache holds it whole already.
func (c *Cache) promote(ctx context.Context, o Object) error {
	defer c.lockName(o.Name)()
	c.mu.Lock()
	_, have := c.whole[o.Name]
	c.mu.Unlock()
	if have {
		return nil
	}
	return c.download(ctx, o)
}
