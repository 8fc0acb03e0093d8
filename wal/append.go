package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxKeptBuf is the largest encoding buffer kept between Appends.
const maxKeptBuf = 1 << 20

// writebackMin is the smallest record whose writeback Append starts as
// soon as it is written (startWriteback), under SyncAlways: smaller ones
// wait little in fsync, and sending each alone would cost group commit
// its merged writes.
const writebackMin = 256 << 10

// Append assigns the next count sequence numbers, writes one record holding
// payload, then calls commit(firstSeq) (if not nil) while still holding the
// log's ordering lock, so commits run strictly in sequence order. It then
// waits per the sync policy: under SyncAlways it returns only after an fsync
// covering the record (shared with concurrent Appends); otherwise at once.
// It returns the first sequence number. The WAL does not keep payload.
//
// If the write fails (for example ENOSPC), the partial record is truncated
// away and the error (wrapping the cause) returned; the sequence numbers are
// skipped and commit is not called. If the fsync fails, commit has already
// been called, the first sequence number is returned with an error wrapping
// ErrPoisoned, and every later Append fails until the WAL is reopened.
func (w *WAL) Append(count uint32, payload []byte, commit func(firstSeq uint64)) (uint64, error) {
	return w.append(count, payload, false, commit)
}

// HeaderRoom is how many bytes AppendFramed needs before a payload: a
// record header's.
const HeaderRoom = recordHeaderSize

// AppendFramed is Append for a payload that follows HeaderRoom spare bytes
// at the start of rec: the record header is written into them and the
// record written from rec as it is, so a batch of megabytes is not copied
// while the ordering lock is held. rec[:HeaderRoom] is overwritten; the
// payload is rec[HeaderRoom:].
func (w *WAL) AppendFramed(count uint32, rec []byte, commit func(firstSeq uint64)) (uint64, error) {
	if len(rec) < HeaderRoom {
		return 0, fmt.Errorf("wal: append: %d bytes leave no room for the %d-byte record header", len(rec), HeaderRoom)
	}
	return w.append(count, rec, true, commit)
}

// append is Append, of a record framed in place (rec holds HeaderRoom
// bytes, then the payload) or of a payload alone.
func (w *WAL) append(count uint32, rec []byte, framed bool, commit func(firstSeq uint64)) (uint64, error) {
	first, last, err := w.write(count, rec, framed, commit)
	if err != nil {
		return 0, err
	}
	w.appends.Add(1)
	if w.opts.Sync == SyncAlways {
		if err := w.syncUpTo(last); err != nil {
			return first, err
		}
	}
	return first, nil
}

// write assigns sequence numbers, writes the record and commits it under
// w.mu. It returns the record's first and last sequence numbers.
func (w *WAL) write(count uint32, rec []byte, framed bool, commit func(uint64)) (uint64, uint64, error) {
	payload := rec
	if framed {
		payload = rec[HeaderRoom:]
	}
	if count == 0 {
		return 0, 0, errors.New("wal: append: count is zero")
	}
	if len(payload) > MaxPayload {
		return 0, 0, fmt.Errorf("wal: append: payload of %d bytes exceeds the maximum %d", len(payload), MaxPayload)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, 0, err
	}
	first := w.nextSeq
	last := first + uint64(count) - 1
	if last < first {
		return 0, 0, fmt.Errorf("wal: append: sequence numbers exhausted at %d", first)
	}
	if err := w.reserve(last); err != nil {
		return 0, 0, err
	}
	if framed {
		putRecordHeader(rec, first, count, payload)
	} else {
		w.buf = appendRecord(w.buf[:0], first, count, payload)
		defer w.trimBuf()
		rec = w.buf
	}
	if err := w.fileFor(int64(len(rec)), first); err != nil {
		return 0, 0, err
	}
	w.nextSeq = last + 1 // from here on, a failure skips these numbers
	if err := w.writeRecord(rec); err != nil {
		return 0, 0, err
	}
	if w.opts.Sync == SyncAlways && len(rec) >= writebackMin {
		// Before commit: the record is on its way while commit works.
		startWriteback(w.active, w.files[len(w.files)-1].size-int64(len(rec)), int64(len(rec)))
	}
	w.written = last
	if commit != nil {
		commit(first)
	}
	return first, last, nil
}

// trimBuf drops an oversized encoding buffer so one large batch does not pin
// its memory for the WAL's lifetime.
func (w *WAL) trimBuf() {
	if cap(w.buf) > maxKeptBuf {
		w.buf = nil
	}
}

// fileFor makes sure there is an active file that can take a record of n
// bytes, rotating or creating one named first as needed. w.mu is held.
func (w *WAL) fileFor(n int64, first uint64) error {
	if w.active != nil {
		cur := w.files[len(w.files)-1]
		if cur.size+n <= w.opts.MaxFileBytes || cur.records == 0 {
			return nil
		}
		if err := w.rotate(); err != nil {
			return err
		}
	}
	return w.createFile(first)
}

// rotate fsyncs the active file and retires its handle; the next sync closes
// it. A failed fsync poisons the WAL. w.mu is held.
func (w *WAL) rotate() error {
	f := w.active
	err := w.fsync(f)
	if err != nil {
		return w.setPoison(fmt.Errorf("fsync %s before rotation: %w", f.Name(), err))
	}
	w.advanceDurable(w.written)
	w.retired = append(w.retired, f)
	w.active = nil
	return nil
}

// createFile creates the log file named first, writes its header and fsyncs
// the directory. w.mu is held.
func (w *WAL) createFile(first uint64) error {
	if n := len(w.files); n > 0 && w.files[n-1].seq >= first {
		return fmt.Errorf("wal: internal error: new file %d not after %d", first, w.files[n-1].seq)
	}
	path := filepath.Join(w.opts.Dir, fileName(first))
	f, err := w.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create %s: %w", path, err)
	}
	if _, err := f.WriteAt(appendFileHeader(nil, first), 0); err != nil {
		f.Close()
		w.fs.Remove(path)
		return fmt.Errorf("wal: write header of %s: %w", path, err)
	}
	if err := w.fs.SyncDir(w.opts.Dir); err != nil {
		f.Close()
		return w.setPoison(fmt.Errorf("fsync dir %s after creating %s: %w", w.opts.Dir, path, err))
	}
	w.active = f
	w.files = append(w.files, &logFile{seq: first, path: path, size: fileHeaderSize, version: formatVersion})
	return nil
}

// writeRecord writes rec at the end of the active file. On failure it cuts
// the file back to where the record started (and fsyncs that), so no partial
// record stays behind; if that fails too, the WAL is poisoned. w.mu is held.
func (w *WAL) writeRecord(rec []byte) error {
	cur := w.files[len(w.files)-1]
	n, err := w.active.WriteAt(rec, cur.size)
	if err == nil && n < len(rec) {
		err = io.ErrShortWrite
	}
	if err == nil {
		cur.size += int64(len(rec))
		cur.records++
		return nil
	}
	werr := fmt.Errorf("wal: write record to %s at offset %d: %w", cur.path, cur.size, err)
	if terr := w.undoWrite(cur); terr != nil {
		return errors.Join(w.setPoison(fmt.Errorf("undo failed write: %w", terr)), werr)
	}
	return werr
}

// undoWrite truncates the active file back to cur.size and fsyncs it.
func (w *WAL) undoWrite(cur *logFile) error {
	if err := w.active.Truncate(cur.size); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", cur.path, cur.size, err)
	}
	err := w.fsync(w.active)
	if err != nil {
		return fmt.Errorf("fsync %s after truncating: %w", cur.path, err)
	}
	w.advanceDurable(w.written)
	return nil
}
