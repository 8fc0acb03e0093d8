package eventlog

import "github.com/eventlogdb/eventlog/event"

// forTomb returns the holds that block t: those made before it.
func (hs holdSet) forTomb(t *tombstone) holdSet {
	var out holdSet
	for _, h := range hs {
		if h.After < t.Seq {
			out = append(out, h)
		}
	}
	return out
}

// erases reports whether a tombstone of tombs hides ev (stored as seq)
// with no hold made before it pinning ev: a hold wins over a later delete
// by query until it is released.
func (hs holdSet) erases(tombs tombstones, seq uint64, ev *event.Event) bool {
	for _, t := range tombs {
		if t.hides(seq, ev) && !hs.forTomb(t).holds(ev) {
			return true
		}
	}
	return false
}

// purgedLevel is the Purged level of a segment written applying tombs
// (newest) when some rows they hide were kept because a hold pins them:
// below the oldest tombstone such a row escaped, so the purge of that
// delete stays pending until the hold is released and the row is gone.
func purgedLevel(level uint64, tombs tombstones, seq uint64, ev *event.Event) uint64 {
	for _, t := range tombs {
		if t.hides(seq, ev) {
			return min(level, t.Seq-1)
		}
	}
	return level
}
