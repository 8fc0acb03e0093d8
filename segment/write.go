package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	// Shape, when not nil, is Event's shape as decoding its binary form
	// found it (event.RowDecoder.Shape): its fields and the form's size,
	// which the writer then does not find by looking at every field of
	// the event (sealing a head had that cost for every row). It must be
	// Event's own.
	Shape *event.RowShape
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
	// FastEncoder, when set, compresses the columns FastColumn names
	// instead of Encoder (SealFastEncoder, beside MergeEncoder): a
	// higher level's CPU is wasted on them.
	FastEncoder *zstd.Encoder
	// EntropyEncoder, when set, compresses the columns EntropyColumn
	// names instead of Encoder (SealEntropyEncoder, beside MergeEncoder):
	// the higher level shrinks them no more than it does.
	EntropyEncoder *zstd.Encoder
	// BlockRows caps the rows of a block; 0 means DefaultBlockRows. Values
	// above 65,536 are lowered to it.
	BlockRows int
	// BlockBytes caps the raw (binary event) bytes of a block; 0 means
	// DefaultBlockBytes. A block always holds at least one row.
	BlockBytes int
	// Scratch, when set, is where the writer takes its working memory
	// from and leaves it when done, instead of the package's pool; see
	// Scratch.
	Scratch *Scratch
	// Version is the format version to write: 0 means Version. Only
	// tests of the readers ask for an older one (1: postings in
	// index.LayoutV1, 2: LayoutV2), to check that old files still answer
	// alike.
	Version int
}

// encoderWindow is the zstd window of segment encoders. Every column and
// postings dictionary is compressed on its own (EncodeAll), so a match
// can only point back within one of them; a block's columns are a few
// MiB at most, and the default 8 MiB window only made each encoder hold
// an 8 MiB history buffer (16 MiB of heap for a store's two). With 1 MiB
// the bytes on disk of realistic events stay the same (eventlog bench
// --events 300000: 91.4 B/event with either window).
const encoderWindow = 1 << 20

// NewEncoder returns the zstd encoder segments are written with
// (SpeedFastest, a 1 MiB window), able to compress concurrency columns
// at once (0: GOMAXPROCS); share one across writers.
func NewEncoder(concurrency int) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(encoderWindow), zstd.WithEncoderConcurrency(concurrency))
}

func (o WriteOptions) withDefaults() WriteOptions {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.BlockRows <= 0 {
		o.BlockRows = DefaultBlockRows
	}
	o.BlockRows = min(o.BlockRows, maxBlockRows)
	if o.Version == 0 {
		o.Version = Version
	}
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

// Write writes rows as a segment file at path (see Create): rows must be
// non-empty, sorted by strictly increasing (@timestamp, sequence) and have
// distinct sequence numbers. The file's bytes are a pure function of rows
// and the block options.
func Write(path string, rows []Row, opts WriteOptions) (Info, error) {
	w, err := Create(path, opts)
	if err != nil {
		return Info{}, err
	}
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			w.Abort()
			return Info{}, err
		}
	}
	return w.Finish()
}

// Writer writes a segment file row by row, holding the values of one block
// of rows at a time (plus the postings and 8 bytes per row for the sequence
// index), so compaction can merge segments far larger than memory. It writes
// path+".tmp"; Finish fsyncs it, renames it to path and fsyncs the
// directory, so the file counts only once it is complete.
type Writer struct {
	path   string
	opts   WriteOptions
	f      vfs.File
	w      *writer
	ownEnc *zstd.Encoder
	sc     *scratch    // nil once released
	stage  *blockStage // the block being filled: &sc.stage
	size   int         // its raw bytes
	rows   uint32      // rows written in earlier blocks
	seqs   []uint64    // every row's sequence number, for the sequence index
	post   *index.Builder
	given  bool // post is the caller's (UsePostings): Add finds no terms
	terms  []index.Term
	last   match.Position
	err    error
}

// Create starts a segment file at path.
func Create(path string, opts WriteOptions) (*Writer, error) {
	opts = opts.withDefaults()
	if opts.Version < 1 || opts.Version > Version {
		return nil, fmt.Errorf("write segment %s: format version %d: this writer writes 1..%d", path, opts.Version, Version)
	}
	sw := &Writer{path: path, opts: opts, post: index.NewBuilderFor(index.Layout(opts.Version)), sc: opts.Scratch.take()}
	sw.stage = &sw.sc.stage
	sw.stage.refIDs = opts.Version >= VersionRefIDs
	sw.stage.derivedStart = opts.Version >= VersionDerivedStart
	sw.stage.messageRefs = opts.Version >= VersionMessageRefs
	enc := opts.Encoder
	if enc == nil {
		var err error
		if enc, err = NewEncoder(1); err != nil {
			return nil, err
		}
		sw.ownEnc = enc
	}
	f, err := opts.FS.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		sw.release()
		return nil, fmt.Errorf("write segment %s: %w", path, err)
	}
	sw.f = f
	sc := sw.sc
	sc.bw.Reset(f)
	sw.w = newWriter(sc.bw, enc, uint8(opts.Version), sc)
	sw.w.fast, sw.w.entropy = opts.FastEncoder, opts.EntropyEncoder
	sw.w.raw, sw.w.frame, sw.w.data = sc.raw, sc.frame, sc.data
	if err := sw.w.header(); err != nil {
		sw.Abort()
		return nil, sw.fail(err)
	}
	return sw, nil
}

func (sw *Writer) fail(err error) error {
	if sw.err == nil {
		sw.err = fmt.Errorf("write segment %s: %w", sw.path, err)
	}
	return sw.err
}

// UsePostings makes the segment's postings b, which the caller builds
// (index.Builder.AddRows) from postings it holds already, instead of the
// terms Add would find in each row (index.AppendTerms): sealing a head,
// whose postings are kept by term, saves that. b must be of the writer's
// layout (index.Layout of its version) and hold exactly the terms of the
// rows added, numbered from 0 in the order of Add; the file is then the
// one Add would write. Call it before the first Add.
func (sw *Writer) UsePostings(b *index.Builder) error {
	if sw.err != nil {
		return sw.err
	}
	if sw.sc == nil {
		return sw.released()
	}
	if len(sw.seqs) > 0 {
		return sw.fail(fmt.Errorf("postings given after %d rows", len(sw.seqs)))
	}
	if want := index.Layout(sw.opts.Version); b.Layout() != want {
		return sw.fail(fmt.Errorf("postings of layout %d given to a writer of layout %d", b.Layout(), want))
	}
	sw.post, sw.given = b, true
	return nil
}

// Add appends a row: after every earlier row in (@timestamp, sequence)
// order, with a sequence number no other row has. Add copies what it keeps
// of r.Event (its strings by reference, Go strings being immutable): the
// caller may reuse the event, and what it points to, once Add returns.
func (sw *Writer) Add(r Row) error {
	if sw.err != nil {
		return sw.err
	}
	if sw.sc == nil {
		return sw.released()
	}
	if r.Event == nil {
		return sw.fail(fmt.Errorf("row %d has no event", len(sw.seqs)))
	}
	p := position(r)
	if len(sw.seqs) > 0 && match.Compare(sw.last, p) >= 0 {
		return sw.fail(fmt.Errorf("rows not sorted by (@timestamp, sequence) at row %d", len(sw.seqs)))
	}
	if len(sw.seqs) >= maxEvents {
		return sw.fail(fmt.Errorf("more than %d rows", maxEvents))
	}
	if sw.opts.Version < VersionExtra && !r.Event.Extra.IsZero() {
		return sw.fail(fmt.Errorf("row %d has kept unknown fields, which format version %d cannot hold (%d on)", len(sw.seqs), sw.opts.Version, VersionExtra))
	}
	var m mask
	var n int
	if r.Shape != nil {
		m, n = maskOf(r.Shape), r.Shape.Size
	} else {
		m, n = rowInfo(r.Event)
	}
	if rows := sw.stage.rows(); rows > 0 && (rows >= sw.opts.BlockRows || sw.size+n > sw.opts.BlockBytes) {
		if err := sw.flush(); err != nil {
			return err
		}
	}
	if err := sw.addTerms(r.Event); err != nil {
		return sw.fail(err)
	}
	sw.stage.add(r.Seq, r.Event, m)
	sw.size += n
	sw.seqs = append(sw.seqs, r.Seq)
	sw.last = p
	return nil
}

// addTerms adds the posting keys of the next row's event, unless the
// postings are the caller's (UsePostings).
func (sw *Writer) addTerms(e *event.Event) error {
	switch {
	case sw.given:
		return nil
	case sw.opts.Version == 1:
		sw.terms = index.AppendTermsV1(sw.terms[:0], e)
	case sw.opts.Version == 2:
		sw.terms = index.AppendTermsV2(sw.terms[:0], e)
	default:
		sw.terms = index.AppendTerms(sw.terms[:0], e)
	}
	return sw.post.Add(uint32(len(sw.seqs)), sw.terms)
}

// flush writes the staged rows as one block.
func (sw *Writer) flush() error {
	if err := sw.w.block(sw.stage, sw.rows); err != nil {
		return sw.fail(err)
	}
	sw.rows += uint32(sw.stage.rows())
	sw.stage.reset()
	sw.size = 0
	return nil
}

// Finish writes the last block, the indexes and the footer, and makes the
// file durable at its path.
func (sw *Writer) Finish() (Info, error) {
	if sw.err != nil {
		sw.Abort()
		return Info{}, sw.err
	}
	if sw.sc == nil {
		return Info{}, sw.released()
	}
	if len(sw.seqs) == 0 {
		sw.Abort()
		return Info{}, sw.fail(errors.New("no rows"))
	}
	info, err := sw.finish()
	if err != nil {
		sw.Abort()
		return Info{}, sw.fail(err)
	}
	sw.release()
	return info, nil
}

func (sw *Writer) finish() (Info, error) {
	if err := sw.flush(); err != nil {
		return Info{}, err
	}
	if last := sw.post.MaxRow(); last >= int64(len(sw.seqs)) {
		return Info{}, fmt.Errorf("postings name row %d of %d", last, len(sw.seqs))
	}
	runs, err := seqRuns(sw.seqs) // fails on a repeated sequence number
	if err != nil {
		return Info{}, err
	}
	w := sw.w
	if err := w.blockIndex(); err != nil {
		return Info{}, err
	}
	if err := w.postings(sw.post); err != nil {
		return Info{}, err
	}
	if err := w.seqIndex(runs); err != nil {
		return Info{}, err
	}
	info, err := w.footer(uint64(len(sw.seqs)))
	if err != nil {
		return Info{}, err
	}
	if err := sw.f.Sync(); err != nil {
		return Info{}, err
	}
	f := sw.f
	sw.f = nil
	if err := f.Close(); err != nil {
		return Info{}, err
	}
	if err := sw.opts.FS.Rename(sw.path+".tmp", sw.path); err != nil {
		return Info{}, err
	}
	return info, sw.opts.FS.SyncDir(filepath.Dir(sw.path))
}

// Abort abandons the file, removing what was written.
func (sw *Writer) Abort() {
	if sw.f != nil {
		sw.f.Close()
		sw.f = nil
	}
	_ = sw.opts.FS.Remove(sw.path + ".tmp")
	sw.release()
}

// release gives back the encoder (if the writer made it) and the
// scratch; Add and Finish refuse to run after it.
func (sw *Writer) release() {
	sw.closeEnc()
	if sc := sw.sc; sc != nil {
		if w := sw.w; w != nil {
			sc.raw, sc.frame, sc.data = w.raw[:0], w.frame[:0], w.data[:0]
			sc.cols = w.cols.reset()
			if k := w.cols.refKeys; k != nil {
				sc.refKeys = k.reset()
			}
			sw.w = nil
		}
		sw.sc, sw.stage = nil, nil
		sw.opts.Scratch.keep(sc)
	}
}

func (sw *Writer) released() error {
	return fmt.Errorf("write segment %s: writer already finished or aborted", sw.path)
}

func (sw *Writer) closeEnc() {
	if sw.ownEnc != nil {
		sw.ownEnc.Close()
		sw.ownEnc = nil
	}
}

func position(r Row) match.Position {
	return match.Position{TS: r.Event.Timestamp.UnixNano(), Seq: r.Seq}
}

// postings writes the postings section built row by row.
func (w *writer) postings(b *index.Builder) error {
	if err := w.enter(stagePostings); err != nil {
		return err
	}
	w.pad8()
	sec, err := b.AppendTo(nil, w.enc)
	if err != nil {
		return err
	}
	w.f.Postings, err = w.section(sec)
	return err
}
