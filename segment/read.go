package segment

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

func (r *Reader) live() error {
	if r.closed.Load() {
		return fmt.Errorf("segment %s: %w", r.path, ErrClosed)
	}
	return nil
}

// blockOf returns the block holding row.
func (r *Reader) blockOf(row uint32) int {
	return sort.Search(len(r.blocks), func(i int) bool {
		b := &r.blocks[i]
		return b.FirstRow+b.Rows > row
	})
}

// column returns the decoded bytes of column c of block bi after checking
// its CRC. A raw column aliases the mapping.
func (r *Reader) column(bi int, c *colMeta) ([]byte, error) {
	return r.columnInto(bi, c, nil)
}

// columnBufs holds the column decompression buffers of every Reader: a
// block decode takes one and decompresses each column into it in turn.
// One pool for the store, not one per Reader: a wide read (an export of
// 124,664 documents over 61 segments, bench IssueQueries/
// frequent-object-export) decodes a few blocks of each segment between
// two collections, which empty the pools, so per Reader nearly every
// block grew a buffer of its own (42 MB an export).
var columnBufs = sync.Pool{New: func() any { return new([]byte) }}

// columnInto is column decompressing into buf when it is large enough.
func (r *Reader) columnInto(bi int, c *colMeta, buf []byte) ([]byte, error) {
	b := &r.blocks[bi]
	stored, err := r.span(b.Off+c.Off, c.CLen)
	if err != nil {
		return nil, err
	}
	if got := crc(stored); got != c.CRC {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: crc %08x, want %08x", c.ID, got, c.CRC))
	}
	if c.Codec == codecRaw {
		return stored, nil
	}
	var h zstd.Header
	if err := h.Decode(stored); err != nil || (h.HasFCS && h.FrameContentSize != c.RawLen) {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: bad zstd frame header", c.ID))
	}
	if uint64(cap(buf)) < c.RawLen {
		buf = make([]byte, 0, min(c.RawLen, 8*uint64(len(stored))+4096))
	}
	raw, err := r.dec.DecodeAll(stored, buf[:0])
	if err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %w", c.ID, err))
	}
	if uint64(len(raw)) != c.RawLen {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %d bytes, want %d", c.ID, len(raw), c.RawLen))
	}
	return raw, nil
}

// keys decodes the sequence and timestamp columns of block bi and checks
// them against the block index: positions strictly increase from
// (MinTS, ·) to (MaxTS, ·) and sequence numbers stay within the block's
// range.
func (r *Reader) keys(bi int) (*blockKeys, error) {
	if k := r.kc.get(bi); k != nil {
		return k, nil
	}
	k, err := r.decodeKeys(bi)
	if err == nil {
		r.kc.put(bi, k)
	}
	return k, err
}

func (r *Reader) decodeKeys(bi int) (*blockKeys, error) {
	b := &r.blocks[bi]
	r.prefetchKeys(bi)
	rawSeq, err := r.column(bi, &b.Cols[0])
	if err != nil {
		return nil, err
	}
	rawTS, err := r.column(bi, &b.Cols[1])
	if err != nil {
		return nil, err
	}
	k := &blockKeys{}
	if k.seq, err = decodeSeqColumn(rawSeq, int(b.Rows)); err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("sequence column: %w", err))
	}
	if k.ts, k.fmts, err = decodeTSColumn(rawTS, int(b.Rows), r.f.Version >= VersionRefIDs); err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("timestamp column: %w", err))
	}
	if err := checkKeys(b, k); err != nil {
		return nil, r.corrupt(SectionBlock, bi, err)
	}
	return k, nil
}

func checkKeys(b *blockMeta, k *blockKeys) error {
	n := len(k.ts)
	if k.ts[0] != b.MinTS || k.ts[n-1] != b.MaxTS {
		return fmt.Errorf("%w: timestamps disagree with the block index", errInvalid)
	}
	for i, s := range k.seq {
		if s < b.MinSeq || s > b.MaxSeq || (i > 0 && k.ts[i] == k.ts[i-1] && s <= k.seq[i-1]) {
			return fmt.Errorf("%w: sequence numbers disagree with the block index", errInvalid)
		}
	}
	return nil
}

// decodeBlock decodes every row of block bi.
func (r *Reader) decodeBlock(bi int) ([]event.Event, *blockKeys, error) {
	return r.decodeRange(bi, 0, int(r.blocks[bi].Rows), nil)
}

// decodeRange decodes rows [from, to) of block bi, calling pause, if not
// nil, after each column; evs[i] is row from+i.
func (r *Reader) decodeRange(bi, from, to int, pause func()) (evs []event.Event, k *blockKeys, err error) {
	if k, err = r.keys(bi); err != nil {
		return nil, nil, err
	}
	evs = make([]event.Event, to-from)
	want := make([]int, len(evs))
	out := make([]*event.Event, len(evs))
	for i := range evs {
		want[i], out[i] = from+i, &evs[i]
	}
	setTimestamps(k, want, out)
	if err := r.decodeColumnsPausing(bi, want, out, allColumns, pause); err != nil {
		return nil, nil, err
	}
	return evs, k, nil
}

// decodeRows decodes the rows want (increasing, within the block) of block
// bi into out. Every column is read and checked; only the wanted rows'
// values are built, as copies that do not alias the mapping or buffers.
func (r *Reader) decodeRows(bi int, k *blockKeys, want []int, out []*event.Event) error {
	setTimestamps(k, want, out)
	return r.decodeColumns(bi, want, out, allColumns)
}

func allColumns(uint8) bool { return true }

func setTimestamps(k *blockKeys, want []int, out []*event.Event) {
	for i, row := range want {
		out[i].Timestamp, _ = event.DateFromParts(k.ts[row], event.Format(k.fmts.at(row)))
	}
}

// decodeColumns decodes the field columns (not @timestamp) whose id wanted
// accepts.
func (r *Reader) decodeColumns(bi int, want []int, out []*event.Event, wanted func(id uint8) bool) error {
	return r.decodeColumnsPausing(bi, want, out, wanted, nil)
}

// decodeColumnsPausing is decodeColumns calling pause, if not nil, after
// each column.
func (r *Reader) decodeColumnsPausing(bi int, want []int, out []*event.Event, wanted func(id uint8) bool, pause func()) error {
	derivedStart := r.f.Version >= VersionDerivedStart
	if derivedStart && wanted(colStart) && !wanted(colDuration) {
		// event.start is read from event.duration: decode it too, and
		// give out back the durations it had.
		defer restoreDurations(out)()
		asked := wanted
		wanted = func(id uint8) bool { return id == colDuration || asked(id) }
	}
	buf := columnBufs.Get().(*[]byte)
	defer columnBufs.Put(buf)
	var scratch selection // for each column in turn (see selectRows)
	var nul columnSet     // the string columns decoded with a zero byte
	b := &r.blocks[bi]
	r.prefetch(bi, wanted)
	for i := 2; i < len(b.Cols); i++ {
		c := &b.Cols[i]
		if !wanted(c.ID) {
			continue
		}
		raw, err := r.columnInto(bi, c, *buf)
		if err != nil {
			return err
		}
		if c.Codec == codecZstd {
			*buf = raw[:0]
		}
		hasNul, err := decodeFieldRows(raw, event.FieldByID(c.ID), int(b.Rows), c.Count, want, out, &scratch, r.refKeys, derivedStart)
		if err != nil {
			var ce *CorruptionError
			if errors.As(err, &ce) {
				return ce // a refs column's dictionary failed to load: the postings' damage, not the block's
			}
			return r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %w", c.ID, err))
		}
		if hasNul {
			nul.add(c.ID)
		}
		if pause != nil {
			pause()
		}
	}
	if r.f.Version >= VersionRefIDs {
		if err := r.expandRefIDs(bi, want, out, wanted, nul); err != nil {
			return err
		}
	}
	if r.f.Version >= VersionMessageRefs && nul.has(colMessage) {
		return r.expandMessages(bi, want, out, wanted)
	}
	return nil
}

// columnSet is a set of column ids.
type columnSet [4]uint64

func (s *columnSet) add(id uint8)      { s[id>>6] |= 1 << (id & 63) }
func (s *columnSet) has(id uint8) bool { return s[id>>6]&(1<<(id&63)) != 0 }

// restoreDurations returns a function that gives out's events back the
// event.duration they hold now.
func restoreDurations(out []*event.Event) func() {
	had := make([]*event.Duration, len(out))
	for i, e := range out {
		had[i] = e.Event.Duration
	}
	return func() {
		for i, e := range out {
			e.Event.Duration = had[i]
		}
	}
}

// expandRefIDs puts the ref ids back into the string values just decoded
// into out (refids.go), in the columns of nul: those whose decoded values
// hold a zero byte, which every escape starts with (the others need no
// scan: skipping them was 5 % of an export's CPU). When the refs were decoded with them they are
// used; otherwise the refs of the rows that need them are decoded aside,
// so that out gains no field it was not asked for. The values of a column
// that need it are written one after the other into one string, which
// they then share: one allocation a column of a block rather than one a
// value (an export's messages and rule ids nearly all hold a ref id).
func (r *Reader) expandRefIDs(bi int, want []int, out []*event.Event, wanted func(id uint8) bool, nul columnSet) error {
	var aside []event.Event
	var pending []int // the events of out whose value holds an escape
	var ends []int    // where each one's value ends in b
	var b strings.Builder
	for _, c := range r.blocks[bi].Cols[2:] {
		f := event.FieldByID(c.ID)
		if f.Kind != event.KindString || !nul.has(c.ID) || (c.ID == colMessage && r.f.Version >= VersionMessageRefs) {
			continue
		}
		pending = pending[:0]
		size := 0
		for i, ev := range out {
			if v := f.Str(ev); strings.IndexByte(*v, 0) >= 0 {
				pending, size = append(pending, i), size+len(*v)+36
			}
		}
		if len(pending) == 0 {
			continue
		}
		if aside == nil && !wanted(colRefs) {
			var err error
			if aside, err = r.decodeAside(bi, want, func(id uint8) bool { return id == colRefs }); err != nil {
				return err
			}
		}
		b.Reset()
		b.Grow(size)
		ends = ends[:0]
		for _, i := range pending {
			refs := out[i].Kibana.SavedObjects
			if aside != nil {
				refs = aside[i].Kibana.SavedObjects
			}
			if err := writeRefIDs(&b, *f.Str(out[i]), refs); err != nil {
				return r.corrupt(SectionBlock, bi, fmt.Errorf("column %d, row %d: %w", c.ID, want[i], err))
			}
			ends = append(ends, b.Len())
		}
		all, start := b.String(), 0
		for k, i := range pending {
			*f.Str(out[i]), start = all[start:ends[k]], ends[k]
		}
	}
	return nil
}

// decodeAside decodes the columns wanted accepts of the rows want of
// block bi into new events: the values an expansion needs that the caller
// did not ask for (the refs of ref ids, the fields of messages).
func (r *Reader) decodeAside(bi int, want []int, wanted func(id uint8) bool) ([]event.Event, error) {
	evs := make([]event.Event, len(want))
	ptrs := make([]*event.Event, len(want))
	for i := range evs {
		ptrs[i] = &evs[i]
	}
	err := r.decodeColumns(bi, want, ptrs, wanted)
	return evs, err
}

// Events returns the events of rows, in the given order. Each needed block
// is read once per call, and only the requested rows are decoded. The
// events are owned by the caller.
func (r *Reader) Events(rows []uint32) ([]event.Event, error) {
	if err := r.live(); err != nil {
		return nil, err
	}
	for _, row := range rows {
		if uint64(row) >= r.f.Events {
			return nil, fmt.Errorf("segment %s: row %d out of range (%d events)", r.path, row, r.f.Events)
		}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rows[a], rows[b]) })
	out := make([]event.Event, len(rows))
	for s := 0; s < len(order); {
		bi := r.blockOf(rows[order[s]])
		end := s + 1
		for end < len(order) && r.blockOf(rows[order[end]]) == bi {
			end++
		}
		if err := r.eventsOfBlock(bi, rows, order[s:end], out); err != nil {
			return nil, err
		}
		s = end
	}
	return out, nil
}

// eventsOfBlock decodes into out[i], for every i in order (sorted by row,
// all in block bi), the event of rows[i]. Repeated rows are decoded once.
func (r *Reader) eventsOfBlock(bi int, rows []uint32, order []int, out []event.Event) error {
	k, err := r.keys(bi)
	if err != nil {
		return err
	}
	first := r.blocks[bi].FirstRow
	want := make([]int, 0, len(order))
	dst := make([]*event.Event, 0, len(order))
	for j, i := range order {
		if j > 0 && rows[i] == rows[order[j-1]] {
			continue
		}
		want = append(want, int(rows[i]-first))
		dst = append(dst, &out[i])
	}
	if err := r.decodeRows(bi, k, want, dst); err != nil {
		return err
	}
	for j := 1; j < len(order); j++ {
		if rows[order[j]] == rows[order[j-1]] {
			out[order[j]] = out[order[j-1]]
		}
	}
	return nil
}
