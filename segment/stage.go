package segment

import (
	"bufio"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
)

// This file stages the block being filled column by column: Add copies
// each row's values out of its event (strings into the column's text,
// numbers by value), so the writer keeps no pointer into the caller's
// event, and the block's
// columns are encoded from these vectors (see column_encode.go).

// scratch is what a Writer stages and encodes blocks with. It is pooled:
// its vectors and buffers grow to a block's size, which writing one
// segment after another would otherwise allocate again.
type scratch struct {
	stage            blockStage
	bw               *bufio.Writer
	raw, frame, data []byte
	// cols and refKeys are the column encoder and ref key numbering of
	// the last writer, emptied (nil before the first): their maps keep
	// the room a segment's dictionaries and keys grew them to.
	cols    *colEncoder
	refKeys *refKeyWriter
}

var scratchPool = sync.Pool{New: func() any { return &scratch{bw: bufio.NewWriterSize(nil, 1<<20)} }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// Scratch keeps a Writer's working memory (its staged block's vectors and
// text, its file buffer and encoding buffers, grown to a block's size,
// and its column encoder's and ref key numbering's maps, grown to a
// segment's) for the next Writer given it (WriteOptions.Scratch), out of
// reach of the garbage collector, which empties the package's pool at every
// cycle: a store that seals a head every few hundred milliseconds while
// the collector runs several times a second grew them again from nothing
// for nearly every segment. The zero value is empty. One Writer at a
// time may use a Scratch; Release gives its memory back.
type Scratch struct{ sc *scratch }

// take returns the kept scratch, or the pool's when s keeps none.
func (s *Scratch) take() *scratch {
	if s == nil || s.sc == nil {
		return getScratch()
	}
	sc := s.sc
	s.sc = nil
	return sc
}

// keep empties sc, dropping the strings and file it holds, and keeps it
// in s, or pools it when s is nil.
func (s *Scratch) keep(sc *scratch) {
	if s == nil {
		sc.put()
		return
	}
	sc.stage.reset()
	sc.bw.Reset(nil)
	s.sc = sc
}

// Release drops the memory s keeps, for the collector to free.
func (s *Scratch) Release() { s.sc = nil }

// put empties sc, dropping the strings and file it holds, and pools it.
func (sc *scratch) put() {
	sc.stage.reset()
	sc.bw.Reset(nil)
	scratchPool.Put(sc)
}

// blockStage holds the rows of the block being filled.
type blockStage struct {
	seqs  []uint64
	ts    []int64  // @timestamp, Unix nanoseconds
	tsFmt []uint64 // @timestamp formats
	masks []mask   // the present fields of each row
	union mask     // the fields some row has
	cols  [maxSlots]colStage
	keys  []string // scratch: one row's label keys
	// refIDs stores the ref ids a string value holds as references to
	// the row's refs (VersionRefIDs on, refids.go).
	refIDs bool
	// derivedStart stores event.start relative to @timestamp less
	// event.duration (VersionDerivedStart on).
	derivedStart bool
	rowRefs      rowRefIDs
	// messageRefs stores the values of the row that its message repeats
	// as references to them (VersionMessageRefs on, message_refs.go).
	messageRefs bool
	msgSources  messageSources
}

// colStage holds the values of one field over the rows that have it; which
// vectors a kind uses is told in stageValue.
type colStage struct {
	n int // rows holding the field
	// present has bit i%64 of word i/64 set when row i holds the field,
	// up to the last that does: the column's presence bitmap, set as
	// rows are staged rather than by testing every row's mask per column.
	present []uint64
	strs    [5][]string
	u64     []uint64
	i64     []int64
	f64     []float64
	// text holds copies of the staged strings, in staging order: they are
	// copied while the row is still in the CPU's caches (it was just
	// decoded), so that the column's encoding reads them one after the
	// other rather than from all over the head's arena. Reading them there
	// at a block's end, 8,192 rows later, missed the caches on nearly every
	// string: buildDict's map lookups were 8 % of the server's CPU on bench
	// http. The strings point into text until reset; text is reused.
	text []byte
}

// keep returns a copy of v in c.text.
func (c *colStage) keep(v string) string {
	if len(v) == 0 {
		return ""
	}
	at := c.roomFor(len(v))
	c.text = append(c.text, v...)
	return unsafe.String(&c.text[at], len(v))
}

// keepRefIDs is keep for the stored form of v given its row's refs
// (appendRefIDs), written straight into c.text: building it apart cost an
// allocation and a copy for most messages.
func (c *colStage) keepRefIDs(v string, refs *rowRefIDs) string {
	if len(v) == 0 {
		return ""
	}
	at := c.roomFor(2 * len(v))            // the longest stored form: every byte escaped
	c.text = appendRefIDs(c.text, v, refs) // within cap: c.text does not move
	return unsafe.String(&c.text[at], len(c.text)-at)
}

// roomFor makes room in c.text for n more bytes and returns where they
// will start. A full text is not grown in place (staged strings point
// into it) but replaced by a larger one, which the next blocks reuse.
func (c *colStage) roomFor(n int) int {
	if len(c.text)+n > cap(c.text) {
		c.text = make([]byte, 0, max(2*cap(c.text), n, 4<<10))
	}
	return len(c.text)
}

func (c *colStage) reset() {
	c.n = 0
	clear(c.present)
	c.present = c.present[:0]
	for j := range c.strs {
		clear(c.strs[j]) // drop the strings
		c.strs[j] = c.strs[j][:0]
	}
	c.u64, c.i64, c.f64 = c.u64[:0], c.i64[:0], c.f64[:0]
	c.text = c.text[:0] // no staged string points into it any more
}

func (s *blockStage) rows() int { return len(s.seqs) }

// add stages a row whose present fields are m.
func (s *blockStage) add(seq uint64, e *event.Event, m mask) {
	ts := e.Timestamp.UnixNano()
	s.seqs = append(s.seqs, seq)
	s.ts = append(s.ts, ts)
	s.tsFmt = append(s.tsFmt, uint64(e.Timestamp.Format()))
	s.masks = append(s.masks, m)
	s.union.or(&m)
	row := len(s.seqs) - 1
	if s.refIDs {
		s.rowRefs.reset(e.Kibana.SavedObjects)
	}
	if s.messageRefs && m.has(messageSlot) {
		s.msgSources.reset(e, &m)
	}
	for w, word := range m {
		for word != 0 {
			si := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			c := &s.cols[si]
			for len(c.present) <= row/64 {
				c.present = append(c.present, 0)
			}
			c.present[row/64] |= 1 << (row % 64)
			s.stageValue(c, &slots[si], e, ts)
		}
	}
}

// stageValue copies the value of slot f in e, which e has, into c.
func (s *blockStage) stageValue(c *colStage, f *fieldSlot, e *event.Event, ts int64) {
	c.n++
	switch f.kind {
	case event.KindString, event.KindIP, event.KindExtra: // strs[0] values
		v := *f.str(e)
		switch {
		case s.messageRefs && f.f.ID == colMessage:
			v = c.keepMessage(v, &s.msgSources)
		case s.refIDs && f.kind == event.KindString:
			v = c.keepRefIDs(v, &s.rowRefs)
		default:
			v = c.keep(v)
		}
		c.strs[0] = append(c.strs[0], v)
	case event.KindStrings: // u64 list heads, strs[0] values
		l := f.list(e)
		head := uint64(len(l.Values)) << 1
		if l.Scalar && len(l.Values) == 1 {
			head |= 1
		}
		c.u64 = append(c.u64, head)
		for _, v := range l.Values {
			c.strs[0] = append(c.strs[0], c.keep(v))
		}
	case event.KindDate: // u64 formats, i64 offsets from @timestamp (dateBase)
		d := f.date(e)
		unit := dateUnit(uint64(d.Format()))
		c.u64 = append(c.u64, uint64(d.Format()))
		c.i64 = append(c.i64, d.UnixNano()/unit-match.FloorDiv(s.dateBase(f, e, ts), unit))
	case event.KindInt: // i64 values
		c.i64 = append(c.i64, **f.int(e))
	case event.KindFloat: // f64 values
		c.f64 = append(c.f64, **f.float(e))
	case event.KindDuration: // i64 nanoseconds, u64 quoted flags
		d := e.Event.Duration
		c.i64 = append(c.i64, d.Nanos)
		c.u64 = append(c.u64, b2u(d.Quoted))
	case event.KindLabels: // u64 counts, strs[0] keys, strs[1] values
		s.stageLabels(c, e.Labels)
	case event.KindRefs: // u64 counts, strs[0..4] rel, namespace, id, type, type_id
		stageRefs(c, e.Kibana.SavedObjects)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// stageLabels stages a row's labels, keys sorted.
func (s *blockStage) stageLabels(c *colStage, m map[string]string) {
	ks := s.keys[:0]
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	c.u64 = append(c.u64, uint64(len(ks)))
	for _, k := range ks {
		c.strs[0] = append(c.strs[0], c.keep(k))
		c.strs[1] = append(c.strs[1], c.keep(m[k]))
	}
	clear(ks)
	s.keys = ks[:0]
}

func stageRefs(c *colStage, refs []event.SavedObject) {
	c.u64 = append(c.u64, uint64(len(refs)))
	for i := range refs {
		r := &refs[i]
		c.strs[0] = append(c.strs[0], c.keep(r.Rel))
		c.strs[1] = append(c.strs[1], c.keep(r.Namespace))
		c.strs[2] = append(c.strs[2], c.keep(r.ID))
		c.strs[3] = append(c.strs[3], c.keep(r.Type))
		c.strs[4] = append(c.strs[4], c.keep(r.TypeID))
	}
}

// reset empties the stage for the next block, keeping its capacity.
func (s *blockStage) reset() {
	for si := range slots {
		if s.union.has(si) {
			s.cols[si].reset()
		}
	}
	s.seqs, s.ts, s.tsFmt, s.masks = s.seqs[:0], s.ts[:0], s.tsFmt[:0], s.masks[:0]
	s.union = mask{}
	// The last row's ref ids and message sources point into its event
	// (a head's memory): a pooled or kept scratch must not hold it.
	clear(s.rowRefs.ids[:cap(s.rowRefs.ids)])
	clear(s.msgSources.vals[:cap(s.msgSources.vals)])
}

// dateBase is the instant the dates of slot f in e are stored relative to:
// e's @timestamp ts, less e's event.duration for event.start from
// VersionDerivedStart on.
func (s *blockStage) dateBase(f *fieldSlot, e *event.Event, ts int64) int64 {
	if s.derivedStart && f.f.ID == colStart {
		return startBase(ts, e.Event.Duration)
	}
	return ts
}

// startBase is what event.start is stored relative to from
// VersionDerivedStart on: @timestamp ts less the duration d (none: 0).
// The subtraction wraps alike when written and read.
func startBase(ts int64, d *event.Duration) int64 {
	if d == nil {
		return ts
	}
	return ts - d.Nanos
}
