package tiering

import (
	"context"
	"time"
)

// published is told (by the uploader, after each publication) of the
// latest published manifest: the chunks whose records it covers are
// retired as of its publication.
func (w *WALSync) published(m *BucketManifest) {
	w.mu.Lock()
	if m.SealedSeq > w.covered {
		w.covered, w.coveredAt = m.SealedSeq, m.PublishedAt
		w.markCovered()
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// markCovered retires the chunks of known extent the latest published
// manifest covers. w.mu is held.
func (w *WALSync) markCovered() {
	for i := range w.chunks {
		c := &w.chunks[i]
		if c.last == 0 || c.last > w.covered {
			return // chunks are in order: the later ones are not covered either
		}
		if c.retired.IsZero() {
			c.retired = w.coveredAt
		}
	}
}

// retire learns the extent of the oldest chunks of earlier runs (HEAD),
// then moves wal/FIRST past the chunks retired for longer than the delete
// grace and deletes them. wal/FIRST moves first: a reader that starts
// from it never meets a deleted chunk; a crash in between leaves chunks
// below it, which the next run's SyncWAL deletes.
func (w *WALSync) retire(ctx context.Context) error {
	if err := w.learnExtents(ctx); err != nil {
		return err
	}
	due := w.dueChunks()
	if len(due) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.up.RequestTimeout)
	defer cancel()
	if err := writeFirstChunk(rctx, w.store, due[len(due)-1].number+1); err != nil {
		return err
	}
	for _, c := range due {
		if err := w.store.Delete(rctx, chunkKey(c.number)); err != nil {
			return err
		}
		w.mu.Lock()
		w.chunks = w.chunks[1:]
		w.counters.deletes++
		w.mu.Unlock()
	}
	return nil
}

// learnExtents reads the last sequence number of the oldest chunks whose
// extent is unknown (an earlier run's), as far as the latest published
// manifest covers them.
func (w *WALSync) learnExtents(ctx context.Context) error {
	for {
		w.mu.Lock()
		var n uint64
		for _, c := range w.chunks {
			if c.last == 0 {
				n = c.number
				break
			}
			if c.last > w.covered {
				break
			}
		}
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		rctx, cancel := context.WithTimeout(ctx, w.up.RequestTimeout)
		last, found, err := chunkLastSeq(rctx, w.store, n)
		cancel()
		if err != nil {
			return err
		}
		w.mu.Lock()
		for i := range w.chunks {
			if w.chunks[i].number == n {
				w.chunks[i].last = last
				if !found { // deleted by hand: nothing to keep for it
					w.chunks[i].last, w.chunks[i].retired = 1, longAgo
				}
			}
		}
		w.markCovered()
		w.mu.Unlock()
		if last > w.coveredSeq() {
			return nil
		}
	}
}

// longAgo is the retirement time of a chunk found missing: due at once.
var longAgo = time.Unix(1, 0)

// coveredSeq is the latest published manifest's sealed_seq.
func (w *WALSync) coveredSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.covered
}

// dueChunks returns the oldest chunks retired for longer than the grace.
func (w *WALSync) dueChunks() []chunkRef {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.up.Now()
	n := 0
	for n < len(w.chunks) && !w.chunks[n].retired.IsZero() && now.Sub(w.chunks[n].retired) >= w.up.DeleteGrace {
		n++
	}
	return append([]chunkRef(nil), w.chunks[:n]...)
}

// nextDeletion fires when the oldest retired chunk's grace has passed;
// nil when none is retired.
func (w *WALSync) nextDeletion() <-chan time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.chunks) == 0 || w.chunks[0].retired.IsZero() {
		return nil
	}
	due := w.chunks[0].retired.Add(w.up.DeleteGrace)
	if due.Before(w.retryAt) {
		due = w.retryAt // the last attempt failed: wait the backoff
	}
	return time.After(due.Sub(w.up.Now()))
}
