package segment

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// Refs by key number (version 5 on, FORMAT.md "Refs by key number").
//
// A saved-object id is random: nothing compresses it, and a segment held
// each one twice, in the kibana.saved_objects column (16 bytes per
// distinct id per block) and in the postings dictionary, whose ref keys
// (index.RefKey: id, type, space, primary or not) are there for queries
// anyway. From version 5 the refs column stores, per ref, the number of
// its key instead of its id and type. The writer numbers keys in the order
// rows first use them (blocks are written before the postings are sorted,
// and compaction streams rows); the block index ends with the table that
// maps each number to the key's place among the dictionary's sorted
// kibana.saved_objects terms. The rel, namespace and type_id stay in the
// column (the key says only whether the rel is primary and the space,
// which an absent namespace and "default" share), and must agree with the
// key.

// VersionRefKeys is the first version whose refs column numbers each ref's
// key (refkeys.go) and whose block index ends with the key table.
const VersionRefKeys = 5

// refKeyWriter numbers the ref keys of a segment being written, in the
// order its rows first use them.
type refKeyWriter struct {
	nums map[string]uint32
	keys []string // by number
	buf  []byte   // scratch: the key being looked up
	// slab is the tail of the chunk the keys' bytes are copied into, a
	// key's string viewing them: one allocation per refKeySlab bytes of
	// keys rather than one per key (a segment of a busy store has tens of
	// thousands). Bytes in a chunk are never written again.
	slab []byte
}

// refKeySlab is the size of the chunks refKeyWriter copies keys into.
const refKeySlab = 64 << 10

func newRefKeyWriter() *refKeyWriter { return &refKeyWriter{nums: map[string]uint32{}} }

// number returns the number of the key of a ref, giving it the next one
// (and isNew) when the segment has not used it yet.
func (w *refKeyWriter) number(id, typ, namespace, rel string) (n uint64, isNew bool) {
	r := event.SavedObject{ID: id, Type: typ, Namespace: namespace, Rel: rel}
	w.buf = index.AppendRefKey(w.buf[:0], r.ID, r.Type, r.Space(), r.Primary())
	if n, ok := w.nums[string(w.buf)]; ok {
		return uint64(n), false
	}
	key := w.save(w.buf)
	w.nums[key] = uint32(len(w.keys))
	w.keys = append(w.keys, key)
	return uint64(len(w.keys) - 1), true
}

// reset empties w for another segment, keeping its map's and slices'
// room and the rest of its chunk (whose bytes past the keys already in it
// nothing has seen), and returns it.
func (w *refKeyWriter) reset() *refKeyWriter {
	clear(w.nums)
	clear(w.keys) // the keys' chunks are the collector's again
	w.keys = w.keys[:0]
	return w
}

// save returns a string of b's bytes, copied into the slab.
func (w *refKeyWriter) save(b []byte) string {
	if cap(w.slab)-len(w.slab) < len(b) {
		w.slab = make([]byte, 0, max(refKeySlab, len(b)))
	}
	start := len(w.slab)
	w.slab = append(w.slab, b...)
	k := w.slab[start:]
	return unsafe.String(unsafe.SliceData(k), len(k)) // k is never written again
}

// ranks returns, for each key number, the key's place among the keys
// sorted bytewise: its place among the postings' kibana.saved_objects
// terms, which are exactly these keys.
func (w *refKeyWriter) ranks() []uint32 {
	// Sorted by their first 8 bytes as a number first, the whole keys
	// compared only where those are equal: strings.Compare through the
	// numbers took most of the block index's CPU in a seal.
	type keyOrder struct {
		prefix uint64
		n      uint32
	}
	order := make([]keyOrder, len(w.keys))
	for n, k := range w.keys {
		var b [8]byte
		copy(b[:], k)
		order[n] = keyOrder{prefix: binary.BigEndian.Uint64(b[:]), n: uint32(n)}
	}
	slices.SortFunc(order, func(a, b keyOrder) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return strings.Compare(w.keys[a.n], w.keys[b.n])
	})
	ranks := make([]uint32, len(order))
	for rank, o := range order {
		ranks[o.n] = uint32(rank)
	}
	return ranks
}

// appendRefKeyTable writes the key table that ends a version 5 block
// index: uvarint(K), uvarint(rank) for key numbers 0..K-1, then a trailer
// of u32(length of those bytes) and u32(their CRC-32C). The trailer lets
// Salvage find and trust the table at the end of a block index whose own
// CRC fails.
func appendRefKeyTable(dst []byte, ranks []uint32) []byte {
	start := len(dst)
	dst = binary.AppendUvarint(dst, uint64(len(ranks)))
	for _, r := range ranks {
		dst = binary.AppendUvarint(dst, uint64(r))
	}
	table := dst[start:]
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(table)))
	return binary.LittleEndian.AppendUint32(dst, crc(table))
}

// refKeyTrailerLen is the size of the key table's trailer.
const refKeyTrailerLen = 8

// splitRefKeyTable takes the key table off the end of a version 5 block
// index b: it returns the bytes before the table (the blocks) and the
// table's ranks, checked against the trailer's CRC and for being a
// permutation of 0..K-1 (each number names a distinct key).
func splitRefKeyTable(b []byte) (blocks []byte, ranks []uint32, err error) {
	if len(b) < refKeyTrailerLen {
		return nil, nil, fmt.Errorf("%w: ref key table: no trailer", errInvalid)
	}
	trailer := b[len(b)-refKeyTrailerLen:]
	n := uint64(binary.LittleEndian.Uint32(trailer))
	if n > uint64(len(b)-refKeyTrailerLen) {
		return nil, nil, fmt.Errorf("%w: ref key table: length %d exceeds the block index", errInvalid, n)
	}
	at := len(b) - refKeyTrailerLen - int(n)
	table := b[at : len(b)-refKeyTrailerLen]
	if got, want := crc(table), binary.LittleEndian.Uint32(trailer[4:]); got != want {
		return nil, nil, fmt.Errorf("%w: ref key table: crc %08x, want %08x", errInvalid, got, want)
	}
	d := decbuf.New(table, errInvalid)
	ranks = decodeRefKeyTable(&d)
	d.End()
	if d.Err != nil {
		return nil, nil, d.Err
	}
	return b[:at], ranks, nil
}

// decodeRefKeyTable reads uvarint(K) and K ranks, checking they are a
// permutation of 0..K-1.
func decodeRefKeyTable(d *decbuf.Buf) []uint32 {
	n := d.Count(1)
	ranks := make([]uint32, n)
	seen := make([]bool, n)
	for i := range ranks {
		r := d.Uvarint()
		if d.Err != nil {
			return nil
		}
		if r >= uint64(n) || seen[r] {
			d.Fail("ref key table: rank %d of key %d out of range or repeated", r, i)
			return nil
		}
		ranks[i], seen[r] = uint32(r), true
	}
	return ranks
}

// refKeys resolves the key numbers of a version 5 segment's refs columns:
// number n is the ranks[n]-th kibana.saved_objects term of the postings
// dictionary, which post loads (a Reader's comes from its DictCache, so
// decoding refs loads the dictionary like a query does).
type refKeys struct {
	ranks []uint32
	post  func() (*index.Postings, error)
	// err, when set, is why the keys cannot be resolved (a salvage whose
	// block index or postings are damaged): every refs column fails.
	err error
}

// newRefKeys checks the key table against post (checkRefKeys) and
// resolves keys through it.
func newRefKeys(ranks []uint32, post *index.Postings) (*refKeys, error) {
	if err := checkRefKeys(ranks, post); err != nil {
		return nil, err
	}
	return &refKeys{ranks: ranks, post: func() (*index.Postings, error) { return post, nil }}, nil
}

// checkRefKeys checks the key table against the postings: as many keys as
// kibana.saved_objects terms, each a ref key.
func checkRefKeys(ranks []uint32, post *index.Postings) error {
	if n := post.FieldTerms(index.RefField); n != len(ranks) {
		return fmt.Errorf("ref key table has %d keys, the postings %d %s terms", len(ranks), n, index.RefField)
	}
	i := 0
	return post.FieldValues(index.RefField, func(v string) error {
		if _, _, _, _, ok := index.ParseRefKey(v); !ok {
			return fmt.Errorf("%s term %d is not a ref key", index.RefField, i)
		}
		i++
		return nil
	})
}

// unresolvedRefKeys stands for the key table of a version 5 file whose
// table or postings could not be read.
func unresolvedRefKeys(why error) *refKeys { return &refKeys{err: why} }

// memoryBytes is what the table holds besides the postings.
func (k *refKeys) memoryBytes() int64 {
	if k == nil {
		return 0
	}
	return int64(4 * cap(k.ranks))
}

// key returns the ref key of number n in post (from k.post), borrowed
// from its dictionary (index.Postings.FieldTerm): copy what outlives the
// call.
func (k *refKeys) key(post *index.Postings, n uint64) (string, error) {
	if n >= uint64(len(k.ranks)) {
		return "", fmt.Errorf("ref key %d of %d", n, len(k.ranks))
	}
	v, _ := post.FieldTerm(index.RefField, int(k.ranks[n]))
	return v, nil
}

// refOfKey returns the ref of key with the column's rel, namespace and
// type_id, checking that they agree with the key.
func refOfKey(key, rel, namespace, typeID string) (event.SavedObject, error) {
	id, typ, space, primary, ok := index.ParseRefKey(key)
	r := event.SavedObject{Rel: rel, Namespace: namespace, ID: id, Type: typ, TypeID: typeID}
	if !ok || r.Space() != space || r.Primary() != primary {
		return event.SavedObject{}, fmt.Errorf("ref key %q disagrees with its rel %q or namespace %q", key, rel, namespace)
	}
	return r, nil
}

// appendRefsByKey writes a version 5 refs column's values: the counts,
// the rel, namespace and type_id string vectors, uvarint(base) — the keys
// first used in earlier blocks, so the number the block's first new key
// gets — then one code per ref: 0 for a key no earlier ref used (it gets
// the next number: the codes of a segment's first uses, a third of the
// refs on realistic data, are all zero, which compresses to almost
// nothing), else 1 + the key's number.
func (c *colEncoder) appendRefsByKey(dst []byte, col *colStage) []byte {
	dst = appendUvarints(dst, col.u64)
	for _, p := range [3]int{refRel, refNamespace, refTypeID} {
		dst = c.appendStrings(dst, col.strs[p])
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.refKeys.keys)))
	s := col.strs
	for i := range s[refID] {
		n, isNew := c.refKeys.number(s[refID][i], s[refType][i], s[refNamespace][i], s[refRel][i])
		if isNew {
			dst = binary.AppendUvarint(dst, 0)
		} else {
			dst = binary.AppendUvarint(dst, n+1)
		}
	}
	return dst
}

// The staged parts of a ref (colStage.strs of a refs column).
const (
	refRel = iota
	refNamespace
	refID
	refType
	refTypeID
)

// errNoRefKeys: a version 5 refs column decoded without its key table.
var errNoRefKeys = errors.New("ref key table not available")

// decodeRefsByKey reads a version 5 refs column's values (see
// appendRefsByKey) into the selected rows.
// refKeyCopies holds decodeRefsByKey's maps of the keys it copied, kept
// empty: a new map per refs column of a block was 3.5 % of an export's
// bytes (bench IssueQueries/frequent-object-export).
var refKeyCopies = sync.Pool{New: func() any { return map[uint64]string{} }}

func decodeRefsByKey(d *decbuf.Buf, n int, sel *selection, keys *refKeys) {
	if keys == nil || keys.err != nil {
		why := errNoRefKeys
		if keys != nil {
			why = keys.err
		}
		d.Fail("refs column: %v", why)
		return
	}
	cs := getCounts()
	defer putCounts(cs)
	starts, heads, total := readCounts(d, n, 0, sel.idx, cs)
	at := items(starts, heads, 0, cs)
	var parts [3][]string
	for j := range parts {
		b := scratchStrings(len(at))
		defer dropStrings(b)
		parts[j] = readStringsInto(d, total, at, *b)
	}
	nums := readKeyNumbers(d, total, at)
	if d.Err != nil {
		return
	}
	var post *index.Postings
	if len(nums) > 0 {
		var err error
		if post, err = keys.post(); err != nil {
			d.Err = fmt.Errorf("refs column: %w", err) // names the postings' damage
			return
		}
	}
	refs := make([]event.SavedObject, len(at))
	copies := refKeyCopies.Get().(map[uint64]string) // each key copied once per call
	defer func() {
		clear(copies)
		refKeyCopies.Put(copies)
	}()
	for k := range refs {
		key, ok := copies[nums[k]]
		if !ok {
			borrowed, err := keys.key(post, nums[k])
			if err != nil {
				d.Fail("refs column: %v", err)
				return
			}
			key = strings.Clone(borrowed)
			copies[nums[k]] = key
		}
		r, err := refOfKey(key, parts[0][k], parts[1][k], parts[2][k])
		if err != nil {
			d.Fail("refs column: %v", err)
			return
		}
		refs[k] = r
	}
	for i, e := range sel.evs {
		c := int(heads[i])
		e.Kibana.SavedObjects, refs = refs[:c:c], refs[c:]
	}
}

// readKeyNumbers reads uvarint(base) and n key codes (see
// appendRefsByKey) and returns the key numbers of the codes at idx
// (increasing). A new key's number depends on the new keys before it, so
// every code up to the last selected one is read; the rest are skipped.
// Between selected codes only the new keys (zero codes) are counted, eight
// bytes at a time (codes take one or two bytes: a segment's keys number
// in the thousands). A selected code naming a key at or past the next new
// number (one no earlier ref can have used) is an error; the codes
// counted or skipped are not checked (the column's CRC was).
func readKeyNumbers(d *decbuf.Buf, n int, idx []int) []uint64 {
	next := d.Uvarint()
	if n > d.Left() {
		d.Fail("%d key numbers exceed the bytes left", n)
		return nil
	}
	read := 0
	if len(idx) > 0 {
		read = idx[len(idx)-1] + 1
	}
	out := make([]uint64, 0, len(idx))
	b, at := d.B[d.Off:], 0
	for i := 0; i < read; i++ {
		for want := idx[len(out)]; at+8 <= len(b); {
			// A word of codes before the next selected one, whole: only
			// its zero codes (new keys) count.
			w := le64(b[at:])
			ends := ^w & 0x8080808080808080 // the top bit of each byte that ends a code
			if w>>63 != 0 || i+bits.OnesCount64(ends) > want {
				break
			}
			starts := ends<<8 | 0x80
			zeros := ^((w&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | w) & 0x8080808080808080
			next += uint64(bits.OnesCount64(zeros & starts))
			i, at = i+bits.OnesCount64(ends), at+8
		}
		var code uint64
		if at < len(b) && b[at] < 0x80 {
			code = uint64(b[at])
			at++
		} else {
			v, w := binary.Uvarint(b[at:])
			if w <= 0 {
				d.Fail("bad key code %d", i)
				return nil
			}
			code, at = v, at+w
		}
		num := next
		if code == 0 {
			next++
		} else if num = code - 1; num >= next {
			d.Fail("ref key %d used before its first use (next new key %d)", num, next)
			return nil
		}
		if idx[len(out)] == i {
			out = append(out, num)
		}
	}
	d.Off += at
	d.SkipVarints(n - read)
	return out
}
