package eventlog

import (
	"testing"

	"github.com/eventlogdb/eventlog/wal"
)

// FuzzManifest feeds arbitrary bytes to the manifest decoder (a file on
// disk): no panic, and a manifest it accepts re-encodes to one that decodes
// to the same content.
func FuzzManifest(f *testing.F) {
	good, _ := encodeManifest(&manifest{Version: 1, NextID: 3, SealedSeq: 9, Segments: []segmentMeta{{Name: "000000000001.seg", Events: 9, MinSeq: 1, MaxSeq: 9, Bytes: 100}}})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}\ncrc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err != nil {
			return
		}
		again, err := encodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v", err)
		}
		if len(m2.Segments) != len(m.Segments) || m2.SealedSeq != m.SealedSeq || m2.NextID != m.NextID {
			t.Fatalf("manifest changed on re-encoding: %+v vs %+v", m, m2)
		}
	})
}

// FuzzWALPayload feeds arbitrary record payloads (a file on disk) to the
// batch decoder: no panic, and a tombstone it accepts is compiled and
// re-encodes to a frame that decodes to the same tombstone.
func FuzzWALPayload(f *testing.F) {
	b := &batch{}
	b.reserve(1, 0)
	e := ev("p", "a", "2024-05-01T00:00:00Z")
	b.add(&e, false)
	events := append([]byte(nil), b.rec[wal.HeaderRoom:]...)
	withTomb, err := appendTombstoneFrame(append([]byte(nil), events...), &tombstone{Bound: 7, Filter: "user.name:bob", Start: "2024-05-01T00:00:00Z", Deleted: 3})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(events, uint32(1))
	f.Add(withTomb, uint32(1))
	f.Add(withTomb[:len(withTomb)-3], uint32(1))
	f.Add([]byte{3, 0, 1, '{'}, uint32(0))
	f.Fuzz(func(t *testing.T, payload []byte, count uint32) {
		tomb, err := decodeBatch(payload, 10, count, func(int, *Event, []byte) {})
		if err != nil || tomb == nil {
			return
		}
		if tomb.f == nil || tomb.Seq != 10+uint64(count)-1 {
			t.Fatalf("accepted tombstone %+v is not compiled or has the wrong seq", tomb)
		}
		frame, err := appendTombstoneFrame(nil, tomb)
		if err != nil {
			t.Fatal(err)
		}
		var again *tombstone
		if err := decodeFrames(frame, func(data []byte) error {
			again, err = decodeControlFrame(data)
			return err
		}); err != nil {
			t.Fatalf("re-encoded tombstone does not decode: %v", err)
		}
		if again.Filter != tomb.Filter || again.Bound != tomb.Bound || again.Start != tomb.Start || again.End != tomb.End {
			t.Fatalf("tombstone changed on re-encoding: %+v vs %+v", tomb, again)
		}
	})
}

// FuzzTombstonesFile feeds arbitrary bytes to the TOMBSTONES decoder: it
// must reject or accept without panicking, and what it accepts must be in
// order, compiled, and encode back to a file that decodes to the same.
func FuzzTombstonesFile(f *testing.F) {
	good, err := encodeTombstonesFile(tombstones{
		{Seq: 7, Bound: 6, Filter: "user.name:alice", Start: "2024-05-20T11:30:00Z", Deleted: 3},
		{Seq: 9, Bound: 8, Filter: "event.action:login", Deleted: 1},
	})
	if err != nil {
		f.Fatal(err)
	}
	empty, _ := encodeTombstonesFile(nil)
	f.Add(good)
	f.Add(empty)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}\ncrc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := decodeTombstonesFile(data)
		if err != nil {
			return
		}
		for i, tb := range ts {
			if tb.f == nil || (i > 0 && tb.Seq <= ts[i-1].Seq) {
				t.Fatalf("accepted tombstone %d: %+v", i, tb)
			}
		}
		again, err := encodeTombstonesFile(ts)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeTombstonesFile(again)
		if err != nil || len(back) != len(ts) {
			t.Fatalf("re-encoded file: %d tombstones, %v; want %d", len(back), err, len(ts))
		}
	})
}
