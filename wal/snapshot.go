package wal

import "fmt"

// SnapshotFile is one closed log file of a Snapshot: its path and the bytes
// of header and complete records it holds, which never change.
type SnapshotFile struct {
	Path string
	Size int64
}

// Snapshot is the log as of one sequence number: the files holding every
// record after a given one up to LastSeq, all closed (later records go to
// a new file), and kept from Checkpoint until Release. A backup copies
// them while appends go on.
type Snapshot struct {
	// Files are the closed files, in sequence order.
	Files []SnapshotFile
	// LastSeq is the highest sequence number written when the snapshot
	// was taken: the files hold every record up to it, and none after it.
	LastSeq uint64

	w     *WAL
	floor uint64
	done  bool
}

// Snapshot ends the active file (fsyncing it) and returns the files that
// hold records after seq, pinned: until Release, Checkpoint deletes no file
// holding a record after seq. A failed fsync poisons the log, as any
// rotation's does.
func (w *WAL) Snapshot(seq uint64) (*Snapshot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if w.active != nil && w.files[len(w.files)-1].records > 0 {
		if err := w.rotate(); err != nil {
			return nil, fmt.Errorf("wal: snapshot: %w", err)
		}
	}
	s := &Snapshot{LastSeq: w.written, w: w, floor: seq}
	for i, f := range w.files {
		last := i == len(w.files)-1
		if f.records == 0 || (last && w.active != nil) || (!last && w.files[i+1].seq-1 <= seq) {
			continue // empty, still being written, or wholly at or below seq
		}
		s.Files = append(s.Files, SnapshotFile{Path: f.path, Size: f.size})
	}
	w.pins = append(w.pins, seq)
	return s, nil
}

// Release lets Checkpoint delete the snapshot's files again. It is
// idempotent.
func (s *Snapshot) Release() {
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	for i, p := range w.pins {
		if p == s.floor {
			w.pins = append(w.pins[:i], w.pins[i+1:]...)
			break
		}
	}
}

// pinnedLocked lowers a checkpoint's sequence number to the lowest pin, so
// no pinned file is deleted. w.mu is held.
func (w *WAL) pinnedLocked(seq uint64) uint64 {
	for _, p := range w.pins {
		seq = min(seq, p)
	}
	return seq
}
