package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Open opens the log in opts.Dir and scans it once, in order, calling replay
// (which may be nil) for every complete record whose last sequence number is
// greater than after; records wholly <= after are checkpointed state and are
// skipped. Replay streams record by record with a reused buffer: a Record's
// Payload is only valid during the callback (unless opts.KeepPayloads).
//
// A torn record at the tail of the last file is truncated away (in ReadOnly
// mode only ignored) and logged with the file, offset and bytes dropped.
// Damage anywhere else fails Open with a *CorruptionError (errors.Is
// ErrCorrupt) unless opts.Repair. If Open fails after replay was called, the
// caller should discard what it was given. If replay returns an error, Open
// stops and returns it wrapped.
//
// The next sequence number is max(the durable reservation, last replayed
// sequence number + 1, after + 1, 1).
func Open(opts Options, after uint64, replay func(Record) error) (*WAL, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &WAL{opts: o, fs: o.FS, log: o.Logger}
	if err := w.open(after, replay); err != nil {
		w.closeHandles()
		return nil, err
	}
	if !o.ReadOnly && o.Sync == SyncInterval {
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.runSyncer()
	}
	return w, nil
}

// open does Open's work on a fresh WAL.
func (w *WAL) open(after uint64, replay func(Record) error) error {
	if !w.opts.ReadOnly {
		if err := vfs.MkdirAllDurable(w.fs, w.opts.Dir, 0o755); err != nil {
			return fmt.Errorf("wal: create %s: %w", w.opts.Dir, err)
		}
	}
	files, err := w.listFiles()
	if err != nil {
		return err
	}
	if w.reserved, err = w.readReserved(); err != nil {
		return err
	}
	lastSeq, err := w.replayFiles(files, after, replay)
	if err != nil {
		return err
	}
	w.nextSeq = max(w.reserved, lastSeq+1, after+1, 1)
	w.written = lastSeq
	// Everything up to after is sealed elsewhere, so durable too, even when
	// no log file is left to replay.
	w.durable.Store(max(lastSeq, after))
	if w.opts.ReadOnly || len(w.files) == 0 {
		return nil
	}
	return w.openActive()
}

// listFiles returns the log files in dir in sequence order, deleting leftover
// *.tmp files unless read-only. A missing directory is an empty log.
func (w *WAL) listFiles() ([]*logFile, error) {
	entries, err := w.fs.ReadDir(w.opts.Dir)
	if errors.Is(err, fs.ErrNotExist) && w.opts.ReadOnly {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", w.opts.Dir, err)
	}
	var files []*logFile
	for _, e := range entries {
		path := filepath.Join(w.opts.Dir, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") && !w.opts.ReadOnly {
			if err := w.fs.Remove(path); err != nil {
				return nil, fmt.Errorf("wal: remove leftover %s: %w", path, err)
			}
			w.log.Info("wal: removed leftover temporary file", "file", path)
			continue
		}
		if seq, ok := parseFileName(e.Name()); ok && e.Type().IsRegular() {
			files = append(files, &logFile{seq: seq, path: path})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].seq < files[j].seq })
	return files, nil
}

// replayFiles scans files in order, handling torn tails and damage, and
// leaves the surviving files in w.files. It returns the last sequence number
// in the log (0 if none).
func (w *WAL) replayFiles(files []*logFile, after uint64, replay func(Record) error) (uint64, error) {
	sc := newScanner(w.fs, after, replay)
	sc.keep = w.opts.KeepPayloads
	sc.mapFiles = w.opts.KeepPayloads && w.opts.MapPayloads && !w.opts.ReadOnly
	var lastSeq uint64
	for i, f := range files {
		res, err := sc.scanFile(f.path, f.seq, lastSeq)
		if err != nil {
			return 0, err
		}
		f.size, f.records, lastSeq, f.version = res.end, res.records, res.lastSeq, res.version
		w.files = append(w.files, f)
		if res.damage == nil {
			continue
		}
		isLast := i == len(files)-1
		if err := w.handleDamage(res, isLast, files[i+1:]); err != nil {
			return 0, err
		}
		break // the damaged file is now the last one
	}
	return lastSeq, nil
}

// handleDamage truncates a torn tail of the last file, or repairs (with
// Repair) or reports mid-log damage. later are the files after the damaged one.
func (w *WAL) handleDamage(res scanResult, isLast bool, later []*logFile) error {
	d := res.damage
	if !(res.torn && isLast) && !w.opts.Repair {
		return d
	}
	msg := "wal: truncating torn tail"
	if !(res.torn && isLast) {
		msg = "wal: repairing damaged log: truncating and dropping later files"
	}
	if w.opts.ReadOnly {
		w.log.Warn(msg+" (read-only: ignored)", "file", d.File, "offset", d.Offset, "bytes", res.size-d.Offset, "reason", d.Reason)
		if d.Offset < fileHeaderSize {
			w.files = w.files[:len(w.files)-1] // no usable header: not part of the log
		}
		return nil
	}
	w.log.Warn(msg, "file", d.File, "offset", d.Offset, "bytes", res.size-d.Offset, "reason", d.Reason, "later_files", len(later))
	for _, f := range later {
		if err := w.fs.Remove(f.path); err != nil {
			return fmt.Errorf("wal: repair: remove %s: %w", f.path, err)
		}
		w.log.Warn("wal: repair dropped file", "file", f.path)
	}
	return w.truncateTail(d.File, d.Offset)
}

// truncateTail cuts the last file back to off and fsyncs it; a file with no
// complete header is removed. The directory is fsynced either way.
func (w *WAL) truncateTail(path string, off int64) error {
	if off < fileHeaderSize {
		w.files = w.files[:len(w.files)-1]
		if err := w.fs.Remove(path); err != nil {
			return fmt.Errorf("wal: remove torn file %s: %w", path, err)
		}
	} else if err := w.truncateFile(path, off); err != nil {
		return err
	}
	if err := w.fs.SyncDir(w.opts.Dir); err != nil {
		return fmt.Errorf("wal: sync dir %s: %w", w.opts.Dir, err)
	}
	return nil
}

// truncateFile truncates path to off and fsyncs it.
func (w *WAL) truncateFile(path string, off int64) error {
	f, err := w.fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", path, err)
	}
	err = f.Truncate(off)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: truncate %s at %d: %w", path, off, err)
	}
	return nil
}

// openActive opens the last file for appending and fsyncs it, so that
// everything replayed is durable (a previous process may have died with
// records still in the page cache).
func (w *WAL) openActive() error {
	last := w.files[len(w.files)-1]
	f, err := w.fs.OpenFile(last.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", last.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: fsync %s: %w", last.path, err)
	}
	if last.version < formatVersion {
		if last.records == 0 {
			// Its name is the next record's, so the file of this version
			// those go to could not be created beside it; it holds none.
			return w.removeEmpty(f, last)
		}
		// Records of this version go to a file of their own, so that a
		// reader of the older version refuses it as too new.
		w.retired = append(w.retired, f)
		return nil
	}
	w.active = f
	return nil
}

// removeEmpty removes the last file, open as f, which holds no record,
// and fsyncs the directory.
func (w *WAL) removeEmpty(f vfs.File, last *logFile) error {
	f.Close()
	w.files = w.files[:len(w.files)-1]
	if err := w.fs.Remove(last.path); err != nil {
		return fmt.Errorf("wal: remove empty %s: %w", last.path, err)
	}
	if err := w.fs.SyncDir(w.opts.Dir); err != nil {
		return fmt.Errorf("wal: sync dir %s: %w", w.opts.Dir, err)
	}
	w.log.Info("wal: removed an empty file of an older format version", "file", last.path)
	return nil
}

// closeHandles closes every open handle; used when Open fails.
func (w *WAL) closeHandles() {
	for _, f := range append(w.retired, w.active) {
		if f != nil {
			f.Close()
		}
	}
	w.retired, w.active = nil, nil
}
