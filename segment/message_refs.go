package segment

import (
	"fmt"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
)

// Messages are templates filled with the row's own values: "alert: <rule
// type>:<rule id>: '<rule name>' instanceId: '<instance>' scheduled
// actionGroup: '<group>'", "user [<user.name>] logged in", "eventLog
// starting on kibana <server uuid>". Version 4 already stores the ref ids
// a value repeats as references (refids.go); from VersionMessageRefs on,
// the message column also stores every other string of the row it
// repeats — the whole value of one of the row's String or IP fields — as a
// two-byte reference to that field, so the value's bytes are stored once,
// in its own column, and what the message column holds is mostly its
// template, which compresses (FORMAT.md, "Field references in messages").
//
// The stored form of a message: byte 0x00 starts an escape; 0x00 0x00 is
// a NUL of the message; 0x00 k with 1 ≤ k < 0x80 is the id of the row's
// ref k−1 (as in refids.go, but only for the row's first 127 refs); 0x00 k
// with k ≥ 0x80 is the value of the row's field whose wire id is k−0x80.
// Every other byte is the message's own.

const (
	// fieldRefBase is the escape code of the field whose wire id is 0:
	// codes below it refer to refs, codes from it to fields.
	fieldRefBase = 0x80

	// maxMessageRefIDs is how many of a row's refs a message can refer
	// to: codes 1 to fieldRefBase−1.
	maxMessageRefIDs = fieldRefBase - 1

	// minFieldRefLen is the shortest field value replaced by a reference:
	// a shorter one takes no more bytes than its reference. On the
	// realistic generator 3 stored the fewest bytes (message column of
	// 204,800 events at SpeedBetterCompression: 4.23 B/event with 3, 4.26
	// with 4, 4.41 with 6, 5.13 with 8).
	minFieldRefLen = 3
)

// messageSourceSlots are the slots of the fields a message may refer to:
// the String and IP fields other than the message itself, whose wire ids
// fit a code.
var messageSourceSlots = func() (m mask) {
	for si := range slots {
		if f := slots[si].f; messageSource(f) {
			m.set(si)
		}
	}
	return m
}()

// messageSourceIDs are the column ids of messageSourceSlots and colRefs.
var messageSourceIDs = func() (ids []uint8) {
	for si := range slots {
		if messageSourceSlots.has(si) {
			ids = append(ids, slots[si].f.ID)
		}
	}
	return append(ids, colRefs)
}()

// wantsSources reports whether wanted holds every column a message may
// refer to, as when whole events are read: then none is decoded aside.
func wantsSources(wanted func(id uint8) bool) bool {
	for _, id := range messageSourceIDs {
		if !wanted(id) {
			return false
		}
	}
	return true
}

// messageSlot is the slot of the message field.
var messageSlot = func() int {
	for si := range slots {
		if slots[si].f.ID == colMessage {
			return si
		}
	}
	panic("segment: no message field") // programmer error, at init
}()

// messageSource reports whether a message may refer to field f.
func messageSource(f *event.Field) bool {
	return f != nil && (f.Kind == event.KindString || f.Kind == event.KindIP) &&
		f.ID != colMessage && int(f.ID)+fieldRefBase <= 0xff
}

// fieldReferable reports whether a field value can be stored as a
// reference.
func fieldReferable(v string) bool {
	return len(v) >= minFieldRefLen && strings.IndexByte(v, 0) < 0
}

// messageSources are the values one row's message may refer to, in
// increasing code order: its referable ref ids, then its referable field
// values by increasing wire id.
type messageSources struct {
	vals []string
	ks   []byte
	// pairs[pairHash(a, b)] has bit j set when vals[j] starts with the
	// bytes a, b, for the first 64 sources; set lists the entries in use.
	pairs [1 << pairBits]uint64
	set   []uint16
	pos   []int // scratch for appendMessageSlow
	size  int   // the bytes of vals
}

// pairBits is the size of messageSources.pairs' index.
const pairBits = 10

// maxPairSearch bounds the bytes appendMessage's search through s.pairs
// may compare for one message: its length times its row's source bytes.
// At each byte that search compares every source of the byte's pair, up
// to its whole length, so a long message and long sources sharing their
// first bytes (64 KiB of "a" and 58 String fields of 4 KiB of "a" then
// "b") took 355 ms where strings.Index took 6.5 ms, at every seal and
// merge of the row. The realistic generator's rows come to 112,000 at
// most (their sources take 177 bytes at the median, 445 at most).
const maxPairSearch = 1 << 20

// pairSearch reports whether appendMessage finds the sources of message v
// through s.pairs, which holds the first 64 sources only, and not with
// strings.Index (appendMessageSlow). Both give the same stored form.
func (s *messageSources) pairSearch(v string) bool {
	return len(s.vals) <= 64 && len(v)*s.size <= maxPairSearch
}

// pairHash is where a source starting with bytes a, b is noted in
// messageSources.pairs.
func pairHash(a, b byte) uint16 { return (uint16(a)<<2 ^ uint16(b)) & (1<<pairBits - 1) }

// reset prepares s for the row e, whose present fields are m.
func (s *messageSources) reset(e *event.Event, m *mask) {
	s.vals, s.ks, s.size = s.vals[:0], s.ks[:0], 0
	for _, h := range s.set {
		s.pairs[h] = 0
	}
	s.set = s.set[:0]
	refs := e.Kibana.SavedObjects
	for k := range min(len(refs), maxMessageRefIDs) {
		if id := refs[k].ID; referable(id) {
			s.add(id, byte(k+1))
		}
	}
	for w := range m {
		for word := m[w] & messageSourceSlots[w]; word != 0; word &= word - 1 {
			f := &slots[w*64+bits.TrailingZeros64(word)]
			if v := *f.str(e); fieldReferable(v) {
				s.add(v, byte(fieldRefBase+int(f.f.ID)))
			}
		}
	}
}

// add appends the source v of code k.
func (s *messageSources) add(v string, k byte) {
	if j := len(s.vals); j < 64 {
		h := pairHash(v[0], v[1])
		if s.pairs[h] == 0 {
			s.set = append(s.set, h)
		}
		s.pairs[h] |= 1 << j
	}
	s.vals = append(s.vals, v)
	s.ks = append(s.ks, k)
	s.size += len(v)
}

// appendMessage appends the stored form of message v given its row's
// sources to dst. Scanning v from its start, it replaces the source that
// occurs first (the longest of those starting at the same byte, the one
// of lowest code among equals) by its reference and goes on after it; a
// NUL before it is escaped. The stored form is at most twice as long as v.
//
// At each byte it tries only the sources whose first two bytes hash as
// the byte and the next do (s.pairs). Finding every source with
// strings.Index (appendMessageSlow) made writing the realistic events
// cost 0.8-1.2 µs an event more than format 8 (BenchmarkWriteMessageRefs,
// getrusage, load 6-8); with this search format 9 costs less than format
// 8, its smaller message column compressing for less. A row of more than
// 64 sources, or whose message and sources are long (pairSearch), takes
// appendMessageSlow.
func appendMessage(dst []byte, v string, s *messageSources) []byte {
	if !s.pairSearch(v) {
		return appendMessageSlow(dst, v, s)
	}
	lit := 0 // v[lit:i] is still to be copied
	for i := 0; i < len(v); {
		c := v[i]
		if c == 0 {
			dst = append(append(dst, v[lit:i]...), 0, 0)
			i++
			lit = i
			continue
		}
		if i+1 < len(v) {
			if m := s.pairs[pairHash(c, v[i+1])]; m != 0 {
				if j, n := s.longestAt(v[i:], m); n > 0 {
					dst = append(append(dst, v[lit:i]...), 0, s.ks[j])
					i += n
					lit = i
					continue
				}
			}
		}
		i++
	}
	return append(dst, v[lit:]...)
}

// longestAt returns the longest of the sources of m (bits of s.pairs)
// that rest starts with, the first of equals, and its length (0: none).
func (s *messageSources) longestAt(rest string, m uint64) (best, n int) {
	for ; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		if src := s.vals[j]; len(src) > n && strings.HasPrefix(rest, src) {
			best, n = j, len(src)
		}
	}
	return best, n
}

// appendMessageSlow is appendMessage for a row of more than 64 sources,
// which s.pairs does not hold, or whose message and sources are too long
// for its search (pairSearch): it finds each source with strings.Index.
func appendMessageSlow(dst []byte, v string, s *messageSources) []byte {
	pos := s.pos[:0]
	for _, src := range s.vals {
		p := -1
		if len(src) <= len(v) {
			p = strings.Index(v, src)
		}
		pos = append(pos, p)
	}
	s.pos = pos
	at := 0
	for {
		best, k, n := s.first(v, at)
		nul := strings.IndexByte(v[at:], 0)
		switch {
		case nul >= 0 && (best < 0 || at+nul < best):
			dst = append(append(dst, v[at:at+nul]...), 0, 0)
			at += nul + 1
		case best >= 0:
			dst = append(append(dst, v[at:best]...), 0, k)
			at = best + n
		default:
			return append(dst, v[at:]...)
		}
	}
}

// first returns where the first source at or after at in v starts (-1
// when none does), its code and its length, moving the positions in s.pos
// that fell behind at.
func (s *messageSources) first(v string, at int) (best int, k byte, n int) {
	best = -1
	for j, p := range s.pos {
		if p < 0 {
			continue
		}
		src := s.vals[j]
		if p < at {
			if p = strings.Index(v[at:], src); p >= 0 {
				p += at
			}
			s.pos[j] = p
			if p < 0 {
				continue
			}
		}
		if best < 0 || p < best || (p == best && len(src) > n) {
			best, k, n = p, s.ks[j], len(src)
		}
	}
	return best, k, n
}

// keepMessage is keep for the stored form of message v given its row's
// sources (appendMessage), written straight into c.text.
func (c *colStage) keepMessage(v string, s *messageSources) string {
	if len(v) == 0 {
		return ""
	}
	at := c.roomFor(2 * len(v))          // the longest stored form: every byte escaped
	c.text = appendMessage(c.text, v, s) // within cap: c.text does not move
	return unsafe.String(&c.text[at], len(c.text)-at)
}

// messageRow gives the values a stored message of one row may refer to:
// a field from the event aside when aside[id] (it was not asked for, so
// it was decoded apart), from the row's own event otherwise.
type messageRow struct {
	own, other *event.Event
	aside      *[256]bool
}

func (r *messageRow) from(id uint8) *event.Event {
	if r.aside[id] {
		return r.other
	}
	return r.own
}

// writeMessage writes the message of the stored form s, whose row's
// values are row, to b.
func writeMessage(b *strings.Builder, s string, row *messageRow) error {
	for i := strings.IndexByte(s, 0); i >= 0; i = strings.IndexByte(s, 0) {
		b.WriteString(s[:i])
		if i+1 == len(s) {
			return fmt.Errorf("%w: an escape byte ends the message", errInvalid)
		}
		v, err := row.resolve(s[i+1])
		if err != nil {
			return err
		}
		b.WriteString(v)
		s = s[i+2:]
	}
	b.WriteString(s)
	return nil
}

// resolve returns the value escape code k stands for in row.
func (r *messageRow) resolve(k byte) (string, error) {
	switch {
	case k == 0:
		return "\x00", nil
	case k < fieldRefBase:
		refs := r.from(colRefs).Kibana.SavedObjects
		if int(k)-1 < len(refs) && referable(refs[k-1].ID) {
			return refs[k-1].ID, nil
		}
		return "", fmt.Errorf("%w: reference to ref %d of a row with %d refs", errInvalid, k-1, len(refs))
	}
	id := k - fieldRefBase
	f := event.FieldByID(id)
	if !messageSource(f) {
		return "", fmt.Errorf("%w: reference to field %d, which a message cannot refer to", errInvalid, id)
	}
	v := *f.Str(r.from(id))
	if !fieldReferable(v) {
		return "", fmt.Errorf("%w: reference to field %s, whose value %q could not have been referred to", errInvalid, f.Name, v)
	}
	return v, nil
}

// messageNeeds returns the columns the stored messages of the rows
// pending of out refer to (colRefs for a ref id), as a set of column ids.
func messageNeeds(out []*event.Event, pending []int) (need [256]bool) {
	for _, i := range pending {
		s := out[i].Message
		for j := strings.IndexByte(s, 0); j >= 0 && j+1 < len(s); j = strings.IndexByte(s, 0) {
			switch k := s[j+1]; {
			case k >= fieldRefBase:
				need[k-fieldRefBase] = true
			case k > 0:
				need[colRefs] = true
			}
			s = s[j+2:]
		}
	}
	return need
}

// expandColumnMessages puts back what the stored messages of evs, whose
// other columns are decoded and expanded, refer to (salvage).
func expandColumnMessages(evs []event.Event) error {
	var none [256]bool
	var b strings.Builder
	for i := range evs {
		e := &evs[i]
		if strings.IndexByte(e.Message, 0) < 0 {
			continue
		}
		b.Reset()
		if err := writeMessage(&b, e.Message, &messageRow{own: e, aside: &none}); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		e.Message = b.String()
	}
	return nil
}

// expandMessages puts back what the stored messages just decoded into
// out refer to (VersionMessageRefs on), once every other column asked for
// is decoded and its ref ids put back; its caller skips it when no
// message decoded holds a zero byte, which every escape starts with. The columns the messages refer to
// that were not asked for are decoded aside, so that out gains no field
// it was not asked for. Like expandRefIDs, the messages of a block are
// written one after the other into one string, which they then share.
func (r *Reader) expandMessages(bi int, want []int, out []*event.Event, wanted func(id uint8) bool) error {
	if !wanted(colMessage) {
		return nil
	}
	var pending []int // the events of out whose message holds an escape
	size := 0
	for i, ev := range out {
		if strings.IndexByte(ev.Message, 0) >= 0 {
			pending, size = append(pending, i), size+len(ev.Message)+64
		}
	}
	if len(pending) == 0 {
		return nil
	}
	row := messageRow{aside: new([256]bool)}
	if !wantsSources(wanted) {
		need := messageNeeds(out, pending)
		for id, n := range need {
			row.aside[id] = n && !wanted(uint8(id))
		}
	}
	var others []event.Event
	if *row.aside != ([256]bool{}) {
		var err error
		if others, err = r.decodeAside(bi, want, func(id uint8) bool { return row.aside[id] }); err != nil {
			return err
		}
	}
	var b strings.Builder
	b.Grow(size)
	ends := make([]int, 0, len(pending))
	for _, i := range pending {
		row.own = out[i]
		if others != nil {
			row.other = &others[i]
		}
		if err := writeMessage(&b, out[i].Message, &row); err != nil {
			return r.corrupt(SectionBlock, bi, fmt.Errorf("column %d, row %d: %w", colMessage, want[i], err))
		}
		ends = append(ends, b.Len())
	}
	all, start := b.String(), 0
	for k, i := range pending {
		out[i].Message, start = all[start:ends[k]], ends[k]
	}
	return nil
}
