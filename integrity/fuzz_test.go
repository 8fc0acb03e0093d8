package integrity

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// FuzzDecodeHeads: the heads decoder never panics and what it accepts
// re-encodes to the same bytes.
func FuzzDecodeHeads(f *testing.F) {
	s := SignedHead{Head: Head{Size: 3, Timestamp: time.Unix(5, 6)}, Signature: make([]byte, 64)}
	f.Add(appendHeadRecord(appendHeadsHeader(nil), s))
	f.Add(appendHeadsHeader(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		heads, torn, err := DecodeHeads(b)
		if err != nil || len(b) < 16 {
			return
		}
		enc := appendHeadsHeader(nil)
		for _, h := range heads {
			enc = appendHeadRecord(enc, h)
		}
		if string(enc) != string(b[:len(b)-torn]) {
			t.Fatalf("re-encoded %x, want %x", enc, b[:len(b)-torn])
		}
	})
}

// FuzzDecodeEntry: the leaf entry decoder never panics and round-trips.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(appendEntry(nil, 7, Hash{1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, h, err := decodeEntry(b)
		if err != nil {
			return
		}
		if got := appendEntry(nil, seq, h); string(got) != string(b[:EntrySize]) {
			t.Fatalf("re-encoded %x, want %x", got, b[:EntrySize])
		}
	})
}

// FuzzHeadJSON: the head's JSON decoder never panics, and a decoded head
// encodes to JSON that decodes to the same head.
func FuzzHeadJSON(f *testing.F) {
	f.Add([]byte(`{"tree_size":1,"root_hash":"00","timestamp":"2026-01-01T00:00:00Z","signature":"AA=="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h SignedHead
		if json.Unmarshal(b, &h) != nil {
			return
		}
		enc, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var back SignedHead
		if err := json.Unmarshal(enc, &back); err != nil || string(appendHeadRecord(nil, back)) != string(appendHeadRecord(nil, h)) {
			t.Fatalf("%s → %s: %v", b, enc, err)
		}
	})
}

// FuzzDecodeErasures: the erasures decoder never panics, and what it
// accepts re-encodes to the same bytes.
func FuzzDecodeErasures(f *testing.F) {
	bm := roaring64.BitmapOf(3, 5, 1<<40)
	rec, _ := appendErasure(nil, Erasure{Eraser: 9, Kind: ErasedByDelete, Seqs: bm})
	hdr := append([]byte(erasuresMagic), 1, 0, 0, 0)
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	f.Add(append(hdr, rec...))
	loss, _ := appendErasure(nil, Erasure{Kind: LostToRepair, Seqs: roaring64.BitmapOf(4, 6)})
	ack, _ := appendErasure(nil, Erasure{Eraser: 12, Kind: ForkRecorded, Seqs: roaring64.BitmapOf(1)})
	f.Add(slices.Concat(hdr, rec, loss, ack))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, torn, err := DecodeErasures(b)
		if err != nil || len(b) < 16 {
			return
		}
		// Whatever the records say, resolving forks neither panics nor
		// invents: every ordinal it returns names a loss record.
		acks := 0
		for _, e := range es {
			if e.Kind == ForkRecorded {
				acks++
			}
		}
		if n := len(ResolveForks(es)); n != len(es)-acks {
			t.Fatalf("resolved %d records of %d with %d acknowledgements", n, len(es), acks)
		}
		for _, i := range UnrecordedForks(es) {
			if i >= len(es) || !es[i].Kind.IsLoss() || es[i].Eraser != 0 {
				t.Fatalf("unrecorded fork %d: %+v", i, es)
			}
		}
		enc := append([]byte(nil), b[:16]...)
		for _, e := range es {
			if enc, err = appendErasure(enc, e); err != nil {
				t.Fatal(err)
			}
		}
		if len(enc) != len(b)-torn {
			t.Fatalf("re-encoded %d bytes, want %d", len(enc), len(b)-torn)
		}
	})
}

// FuzzDecodePackedTile: the packed tile decoder never panics, what it
// accepts holds 256 leaves in rising order after its predecessor, and it
// re-encodes to the same bytes.
func FuzzDecodePackedTile(f *testing.F) {
	f.Add(appendPackedTile(nil, &packedTile{runs: []seqRun{{first: 9, n: tileLeaves}}, hash: Hash{3}}), uint64(0))
	f.Add(appendPackedTile(nil, &packedTile{runs: []seqRun{{first: 5, n: 100}, {first: 200, n: 156}}, hash: Hash{4}}), uint64(4))
	f.Add(appendPackedTile(nil, &packedTile{runs: []seqRun{{first: 7, n: tileLeaves}}, hash: Hash{5}, sealed: true}), uint64(6))
	f.Fuzz(func(t *testing.T, b []byte, after uint64) {
		p, n, err := decodePackedTile(b, after)
		if err != nil {
			return
		}
		if got := appendPackedTile(nil, p); string(got) != string(b[:n]) {
			t.Fatalf("re-encoded %x, want %x", got, b[:n])
		}
		prev := after
		for i := range tileLeaves {
			s := p.seqAt(i)
			if s <= prev && (prev != 0 || i > 0) {
				t.Fatalf("leaf %d: seq %d after %d", i, s, prev)
			}
			prev = s
		}
		if prev != p.lastSeq() {
			t.Fatalf("last seq %d, the runs end at %d", p.lastSeq(), prev)
		}
	})
}

// FuzzDecodePackedFile: the version 2 and 3 leaf file decoder never panics,
// and what it accepts re-encodes, tile by tile, to the same bytes. The
// golden test covers the full 256-tile size.
func FuzzDecodePackedFile(f *testing.F) {
	smallFiles(f) // 4 tiles a file: small inputs the fuzzer can change at will
	perFile := int(leavesPerFile / tileLeaves)
	tiles := make([]*packedTile, perFile)
	entries := make([][]byte, perFile)
	seq := uint64(1)
	for t := range tiles {
		if t%3 == 1 {
			for range tileLeaves {
				entries[t] = appendEntry(entries[t], seq, Hash{byte(seq)})
				seq++
			}
			continue
		}
		tiles[t] = &packedTile{runs: []seqRun{{first: seq, n: tileLeaves}}, hash: Hash{byte(t)}}
		seq += tileLeaves + 3
	}
	f.Add(encodePackedFile(tiles, entries))
	tiles[0] = &packedTile{runs: []seqRun{{first: 1, n: 10}, {first: 20, n: tileLeaves - 10}}, hash: Hash{9}, sealed: true}
	f.Add(encodePackedFile(tiles, entries)) // version 3: a sealed tile
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := checkFileHeaderUpTo(b, leafMagic, leafVersion, leafVersionSealed); err != nil {
			return
		}
		got, _, err := decodePackedFile(b, 0, 0, func(uint64, Hash, int) {})
		if err != nil {
			return
		}
		tiles := make([]*packedTile, len(got))
		entries := make([][]byte, len(got))
		for i, ti := range got {
			tiles[i] = ti.packed
			if ti.packed == nil {
				entries[i] = b[ti.off : ti.off+tileLeaves*EntrySize]
			}
		}
		enc := encodePackedFile(tiles, entries)
		if string(enc[leafHeaderSize:]) != string(b[leafHeaderSize:]) {
			t.Fatal("the decoded file does not re-encode to its bytes")
		}
		// A file holding a sealed tile is version 3, and only such a file
		// is written as version 3.
		if string(enc[:leafHeaderSize]) != string(b[:leafHeaderSize]) && b[8] != leafVersionPacked {
			t.Fatalf("re-encoded as version %d, read as version %d", enc[8], b[8])
		}
	})
}
