package wal

import "fmt"

// Checkpoint deletes the log files whose records all have sequence numbers
// <= seq (a file's records are all below the next file's name), oldest first,
// then fsyncs the directory. The last file, which is the one being written,
// is never deleted. Replay after a crash halfway through sees a suffix of the
// files, whose covered records it skips by its after argument.
func (w *WAL) Checkpoint(seq uint64) error {
	if w.opts.ReadOnly {
		return ErrReadOnly
	}
	victims, err := w.takeCovered(seq)
	if err != nil || len(victims) == 0 {
		return err
	}
	for _, f := range victims {
		if err := w.fs.Remove(f.path); err != nil {
			return fmt.Errorf("wal: checkpoint %d: remove %s: %w", seq, f.path, err)
		}
	}
	if err := w.fs.SyncDir(w.opts.Dir); err != nil {
		return fmt.Errorf("wal: checkpoint %d: fsync dir %s: %w", seq, w.opts.Dir, err)
	}
	w.log.Debug("wal: checkpoint", "seq", seq, "files_deleted", len(victims))
	return nil
}

// takeCovered removes from the live set the leading files wholly covered by
// seq and returns them. When seq covers everything written, the active file
// goes too (after an fsync, so its handle can be retired), and the next
// Append starts a new file: a store whose events are all sealed keeps no
// WAL bytes.
func (w *WAL) takeCovered(seq uint64) ([]*logFile, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	seq = w.pinnedLocked(seq)
	n := coveredFiles(w.files, seq)
	if n == len(w.files)-1 && w.files[n].records > 0 && w.written <= seq {
		if w.active != nil {
			if err := w.rotate(); err != nil {
				return nil, err
			}
		}
		n++ // a rotated last file (Rotate) goes as well
	}
	victims := append([]*logFile(nil), w.files[:n]...)
	w.files = append(w.files[:0:0], w.files[n:]...)
	return victims, nil
}

// coveredFiles returns how many leading files hold only records <= seq,
// never counting the last file. It is pure planning: file i's records are
// all below file i+1's first sequence number.
func coveredFiles(files []*logFile, seq uint64) int {
	n := 0
	for n+1 < len(files) && files[n+1].seq-1 <= seq {
		n++
	}
	return n
}

// Rotate ends the active file: later records go to a new one. A store that
// must get records out of the log (their events were deleted) rotates, then
// seals past them, so Checkpoint can delete the file that held them.
func (w *WAL) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.active == nil || w.files[len(w.files)-1].records == 0 {
		return nil
	}
	return w.rotate()
}

// FirstSeq is the name of the oldest log file, the lowest sequence number
// the log may still hold; 0 when it holds no file.
func (w *WAL) FirstSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.files) == 0 {
		return 0
	}
	return w.files[0].seq
}
