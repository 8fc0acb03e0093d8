package wal

import (
	"fmt"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Sync fsyncs everything appended so far. It returns the poisoning error if
// the WAL is poisoned, and poisons it if the fsync fails.
func (w *WAL) Sync() error {
	if w.opts.ReadOnly {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := w.Err(); err != nil {
		return err
	}
	return w.syncLocked()
}

// syncUpTo returns once seq is durable. It is group commit: the first caller
// to get syncMu fsyncs everything written so far, and the callers it covered
// find their seq durable and return without an fsync of their own.
func (w *WAL) syncUpTo(seq uint64) error {
	if w.durable.Load() >= seq {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.durable.Load() >= seq {
		return nil
	}
	if err := w.Err(); err != nil {
		return err
	}
	return w.syncLocked()
}

// syncLocked fsyncs the active file up to the highest written sequence
// number, outside w.mu so Appends continue meanwhile, and closes retired
// handles (they were fsynced at rotation). A failed fsync poisons the WAL.
// w.syncMu is held: no other goroutine fsyncs or closes a handle meanwhile.
func (w *WAL) syncLocked() error {
	w.mu.Lock()
	f, target, retired := w.active, w.written, w.retired
	w.retired = nil
	w.mu.Unlock()
	for _, r := range retired {
		if err := r.Close(); err != nil {
			w.log.Warn("wal: close rotated file", "file", r.Name(), "err", err)
		}
	}
	if f == nil || target <= w.durable.Load() {
		return nil // with no active file, rotation already synced everything
	}
	err := w.fsync(f)
	if err != nil {
		return w.setPoison(fmt.Errorf("fsync %s: %w", f.Name(), err))
	}
	w.advanceDurable(target)
	return nil
}

// advanceDurable raises DurableSeq to seq if it is lower.
func (w *WAL) advanceDurable(seq uint64) {
	for {
		cur := w.durable.Load()
		if seq <= cur {
			return
		}
		if w.durable.CompareAndSwap(cur, seq) {
			if w.opts.OnDurable != nil {
				w.opts.OnDurable(seq)
			}
			return
		}
	}
}

// runSyncer is the background goroutine of SyncInterval: every interval it
// fsyncs if there is unsynced data. It exits when w.stop is closed.
func (w *WAL) runSyncer() {
	defer close(w.done)
	t := time.NewTicker(w.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.backgroundSync()
		}
	}
}

// backgroundSync is one tick of the background syncer.
func (w *WAL) backgroundSync() {
	if w.Err() != nil {
		return
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if err := w.syncLocked(); err != nil {
		w.log.Error("wal: background fsync failed", "err", err)
	}
}

// fsync syncs a log file, counting it and reporting its duration.
func (w *WAL) fsync(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	w.fsyncs.Add(1)
	if w.opts.ObserveFsync != nil {
		w.opts.ObserveFsync(time.Since(start))
	}
	return err
}
