package eventlog

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func sampleErased() map[string]erasedID {
	return map[string]erasedID{
		"a":     {seq: 7, until: 2e18, ts: 1e18, format: 3, fp: [16]byte{1, 2, 3}},
		"b-ü/1": {seq: 1 << 40, until: 2e18 + 1, ts: -5, fp: [16]byte{15: 9}},
	}
}

// TestErasedFileRoundTrip: ERASED_IDS decodes to what was encoded, drops
// entries expired at the read, and refuses any damage.
func TestErasedFileRoundTrip(t *testing.T) {
	data := encodeErased(sampleErased())
	got, err := decodeErased(data, 0)
	if err != nil || len(got) != 2 || got["a"] != sampleErased()["a"] || got["b-ü/1"] != sampleErased()["b-ü/1"] {
		t.Fatalf("decoded %v, %v", got, err)
	}
	if got, err := decodeErased(data, 2e18+1); err != nil || len(got) != 1 {
		t.Fatalf("at a later time: %v, %v", got, err)
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x10
		if _, err := decodeErased(bad, 0); !errors.Is(err, errErasedCorrupt) {
			t.Fatalf("flip at byte %d: %v", i, err)
		}
	}
	if _, err := decodeErased(data[:len(data)-1], 0); !errors.Is(err, errErasedCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
}

// FuzzDecodeErased: the decoder of ERASED_IDS never panics, and what it
// accepts encodes back to the same bytes (entries are sorted, so the form
// is canonical when nothing expired).
func FuzzDecodeErased(f *testing.F) {
	f.Add(encodeErased(sampleErased()))
	f.Add(encodeErased(nil))
	f.Add([]byte("EVER\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := decodeErased(data, -1<<63)
		if err != nil {
			return
		}
		if again := encodeErased(ids); !bytes.Equal(again, data) {
			// Non-minimal varints decode too; the re-encoding must
			// still decode to the same entries.
			back, err := decodeErased(again, -1<<63)
			if err != nil || len(back) != len(ids) {
				t.Fatalf("re-encoding decodes to %v, %v", back, err)
			}
		}
	})
}

// TestRetentionDropKeepsIDsKnown: a segment dropped by retention takes its
// rows, not its client ids: a retry within the window is a Duplicate (or
// a Conflict), even across a restart; after the window it is stored.
func TestRetentionDropKeepsIDsKnown(t *testing.T) {
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	opts := Options{AllowUnregistered: true, Now: func() time.Time { return now }, RetentionMaxAge: time.Hour, DedupWindow: 2 * time.Hour, MaintenanceInterval: -1}
	db := mustOpen(t, dir, opts)
	old := withID(ev("p", "a", "2024-04-01T00:00:00Z"), "gone")
	if _, err := db.Append(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil || len(res.Dropped) != 1 {
		t.Fatalf("retention: %+v, %v", res, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, opts)
	other := old
	other.Message = "changed"
	got, err := db.Append(ctx, old, other)
	if err != nil {
		t.Fatal(err)
	}
	checkItems(t, got, []AppendedItem{{1, Duplicate}, {1, Conflict}})
	now = now.Add(2*time.Hour + time.Second)
	got, err = db.Append(ctx, old)
	if err != nil || got.Items[0].Result != Created {
		t.Fatalf("after the window: %+v, %v", got, err)
	}
}
