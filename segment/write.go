package segment

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Row is one event of a segment with its sequence number.
type Row struct {
	Seq   uint64
	Event *event.Event
}

// Block size defaults and bounds.
const (
	DefaultBlockRows  = 8192
	DefaultBlockBytes = 8 << 20
	maxBlockRows      = 1 << 16
	maxEvents         = 1<<32 - 1
)

// WriteOptions configure Write. Every zero value selects the default.
type WriteOptions struct {
	// FS is the file system; nil means vfs.OS{}.
	FS vfs.FS
	// Encoder compresses columns and the postings dictionary; it may be
	// shared. Nil means Write makes one (SpeedFastest) and closes it.
	Encoder *zstd.Encoder
	// BlockRows caps the rows of a block; 0 means DefaultBlockRows. Values
	// above 65,536 are lowered to it.
	BlockRows int
	// BlockBytes caps the raw (binary event) bytes of a block; 0 means
	// DefaultBlockBytes. A block always holds at least one row.
	BlockBytes int
}

func (o WriteOptions) withDefaults() WriteOptions {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.BlockRows <= 0 {
		o.BlockRows = DefaultBlockRows
	}
	o.BlockRows = min(o.BlockRows, maxBlockRows)
	if o.BlockBytes <= 0 {
		o.BlockBytes = DefaultBlockBytes
	}
	return o
}

// Info summarises a segment.
type Info struct {
	Events       int
	MinTS, MaxTS int64
	MinSeq       uint64
	MaxSeq       uint64
	FileBytes    int64
	Version      int
}

// Write writes rows as a segment file at path: it writes path+".tmp",
// fsyncs it, renames it to path and fsyncs the directory, so the file counts
// only once it is complete. rows must be non-empty, sorted by strictly
// increasing (@timestamp, sequence) and have distinct sequence numbers. The
// file's bytes are a pure function of rows and the block options.
func Write(path string, rows []Row, opts WriteOptions) (Info, error) {
	opts = opts.withDefaults()
	if err := checkRows(rows); err != nil {
		return Info{}, fmt.Errorf("eventlog: write segment %s: %w", path, err)
	}
	enc := opts.Encoder
	if enc == nil {
		var err error
		if enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1)); err != nil {
			return Info{}, err
		}
		defer enc.Close()
	}
	info, err := writeFile(path, rows, opts, enc)
	if err != nil {
		return Info{}, fmt.Errorf("eventlog: write segment %s: %w", path, err)
	}
	return info, nil
}

func checkRows(rows []Row) error {
	if len(rows) == 0 {
		return errors.New("no rows")
	}
	if len(rows) > maxEvents {
		return fmt.Errorf("%d rows exceed the limit of %d", len(rows), maxEvents)
	}
	seqs := make([]uint64, len(rows))
	for i, r := range rows {
		if r.Event == nil {
			return fmt.Errorf("row %d has no event", i)
		}
		if i > 0 && match.Compare(position(rows[i-1]), position(r)) >= 0 {
			return fmt.Errorf("rows not sorted by (@timestamp, sequence) at row %d", i)
		}
		seqs[i] = r.Seq
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return fmt.Errorf("sequence %d repeated", seqs[i])
		}
	}
	return nil
}

func position(r Row) match.Position {
	return match.Position{TS: r.Event.Timestamp.UnixNano(), Seq: r.Seq}
}

func writeFile(path string, rows []Row, opts WriteOptions, enc *zstd.Encoder) (Info, error) {
	tmp := path + ".tmp"
	f, err := opts.FS.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return Info{}, err
	}
	w := newWriter(bufio.NewWriterSize(f, 1<<20), enc)
	info, err := w.writeAll(rows, opts)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = opts.FS.Rename(tmp, path)
	}
	if err != nil {
		_ = opts.FS.Remove(tmp)
		return Info{}, err
	}
	return info, opts.FS.SyncDir(filepath.Dir(path))
}

// writeAll runs the writer through every stage.
func (w *writer) writeAll(rows []Row, opts WriteOptions) (Info, error) {
	if err := w.header(); err != nil {
		return Info{}, err
	}
	for start := 0; start < len(rows); {
		end := w.blockEnd(rows, start, opts)
		if err := w.block(rows[start:end], uint32(start)); err != nil {
			return Info{}, err
		}
		start = end
	}
	if err := w.blockIndex(); err != nil {
		return Info{}, err
	}
	if err := w.postings(rows); err != nil {
		return Info{}, err
	}
	if err := w.seqIndex(rows); err != nil {
		return Info{}, err
	}
	return w.footer(rows)
}

// blockEnd returns the end of the block starting at start: at most
// BlockRows rows and, past the first row, at most BlockBytes raw bytes
// (event.AppendBinary sizes). It leaves the rows' present fields in w.masks.
func (w *writer) blockEnd(rows []Row, start int, opts WriteOptions) int {
	w.masks = w.masks[:0]
	size, end := 0, start
	for end < len(rows) && end-start < opts.BlockRows {
		m, n := rowInfo(rows[end].Event)
		if end > start && size+n > opts.BlockBytes {
			break
		}
		w.masks = append(w.masks, m)
		size += n
		end++
	}
	return end
}

// postings builds the postings of every row with index.Terms.
func (w *writer) postings(rows []Row) error {
	if err := w.enter(stagePostings); err != nil {
		return err
	}
	b := index.NewBuilder()
	var terms []index.Term
	for i, r := range rows {
		terms = index.AppendTerms(terms[:0], r.Event)
		if err := b.Add(uint32(i), terms); err != nil {
			return err
		}
	}
	w.pad8()
	sec, err := b.AppendTo(nil, w.enc)
	if err != nil {
		return err
	}
	w.f.Postings, err = w.section(sec)
	return err
}
