package tiering

import (
	"context"
	"time"
)

// deleteDue deletes the retired objects whose grace has passed. The
// published manifest keeps listing them until the next one: deleting a
// missing object again is harmless.
func (u *Uploader) deleteDue(ctx context.Context) error {
	for {
		u.mu.Lock()
		var r *Retired
		if len(u.retired) > 0 && u.cfg.Now().Sub(u.retired[0].Since) >= u.cfg.DeleteGrace {
			r = &u.retired[0]
		}
		u.mu.Unlock()
		if r == nil {
			return nil
		}
		dctx, cancel := u.requestContext(ctx, 0)
		err := u.store.Delete(dctx, r.Key)
		cancel()
		if err != nil {
			return err
		}
		u.mu.Lock()
		u.retired = u.retired[1:]
		u.counters.deletes++
		u.mu.Unlock()
	}
}

// nextDeletion fires when the oldest retired object's grace has passed
// (retired objects are in retirement order); nil when none waits.
func (u *Uploader) nextDeletion() <-chan time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.retired) == 0 {
		return nil
	}
	return time.After(u.retired[0].Since.Add(u.cfg.DeleteGrace).Sub(u.cfg.Now()))
}
