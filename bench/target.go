package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// target is what a run appends to and queries: the embedded engine or a
// server.
type target interface {
	// append stores events; scratch is the calling writer's own buffer.
	// It returns how many times the store pushed back (HTTP 429) before
	// taking them.
	append(ctx context.Context, events []event.Event, scratch *[]byte) (throttled int, err error)
	query(ctx context.Context, k QueryKind) error
	// fsyncs is the store's count of WAL fsyncs so far; false when
	// unknown.
	fsyncs(ctx context.Context) (uint64, bool)
	// sample is called once a second while the run appends.
	sample(ctx context.Context)
	// finish is called once after the last append; it fills in the figures
	// only the target knows (Disk, Server).
	finish(ctx context.Context, rep *Report) error
	// close releases the target; it is called exactly once.
	close() error
}

// register registers every pair of pairs with db.
func register(db *eventlog.DB, pairs map[string][]string) error {
	for provider, actions := range pairs {
		if err := db.RegisterProviderActions(provider, actions...); err != nil {
			return err
		}
	}
	return nil
}

// embedded is the engine, opened in this process.
type embedded struct {
	db     *eventlog.DB
	dir    string
	temp   bool  // dir was made for the run: remove it when closing
	before int64 // bytes in dir before the run
}

// openEmbedded opens dir ("" for a new temporary directory) with the run's
// options and registers pairs.
func openEmbedded(cfg *Config, pairs map[string][]string) (*embedded, error) {
	t := &embedded{dir: cfg.Dir}
	if t.dir == "" {
		dir, err := os.MkdirTemp("", "eventlog-bench-")
		if err != nil {
			return nil, err
		}
		t.dir, t.temp = dir, true
	}
	sizes, err := dirSizes(t.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errors.Join(err, t.removeTemp())
	}
	t.before = sumSizes(sizes)
	t.db, err = eventlog.Open(t.dir, eventlog.Options{Sync: cfg.Sync, SegmentMaxBytes: cfg.SegmentMaxBytes})
	if err != nil {
		return nil, errors.Join(err, t.removeTemp())
	}
	if err := register(t.db, pairs); err != nil {
		return nil, errors.Join(err, t.close())
	}
	return t, nil
}

func (t *embedded) append(ctx context.Context, events []event.Event, _ *[]byte) (int, error) {
	_, err := t.db.Append(ctx, events...)
	return 0, err
}

func (t *embedded) query(ctx context.Context, k QueryKind) error {
	run := t.db.Query
	if k.Aggregate {
		run = t.db.Aggregate
	}
	_, err := run(ctx, k.Req)
	return err
}

func (t *embedded) fsyncs(context.Context) (uint64, bool) { return t.db.Stats().WAL.Fsyncs, true }

func (t *embedded) sample(context.Context) {}

// finish seals what the heads hold (timed), closes the DB and measures what
// the run added to the directory.
func (t *embedded) finish(ctx context.Context, rep *Report) error {
	start := time.Now()
	if err := t.db.Roll(ctx); err != nil {
		return fmt.Errorf("final seal: %w", err)
	}
	seal := time.Since(start)
	segments := t.db.Stats().Segments
	if err := t.db.Close(); err != nil {
		return err
	}
	sizes, err := dirSizes(t.dir)
	if err != nil {
		return err
	}
	d := &Disk{
		Bytes: sumSizes(sizes) - t.before, SegmentBytes: sizes["segments"], WALBytes: sizes["wal"],
		Segments: segments, SealSeconds: seal.Seconds(),
	}
	if d.Layout, err = StoreLayout(t.dir); err != nil {
		return err
	}
	if rep.Events > 0 && d.Bytes > 0 {
		d.BytesPerEvent = float64(d.Bytes) / float64(rep.Events)
		d.SegmentBytesPerEvent = float64(d.SegmentBytes) / float64(rep.Events)
		d.CompressionRatio = float64(rep.JSONBytes) / float64(d.Bytes)
	}
	rep.Disk = d
	return nil
}

func (t *embedded) close() error {
	return errors.Join(t.db.Close(), t.removeTemp())
}

func (t *embedded) removeTemp() error {
	if !t.temp {
		return nil
	}
	return os.RemoveAll(t.dir)
}
