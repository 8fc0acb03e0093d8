package eventlog

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/wal"
)

// TestReplayReportsABadRecord: a WAL record whose checksum holds but whose
// event does not decode fails Open with an error naming the record, while
// records before and after it go through the replay's stages (goleak in
// TestMain checks that every stage stopped).
func TestReplayReportsABadRecord(t *testing.T) {
	dir := t.TempDir()
	w, err := wal.Open(wal.Options{Dir: filepath.Join(dir, "wal")}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendRecord := func(payload []byte, count uint32) {
		t.Helper()
		if _, err := w.Append(count, payload, func(uint64) {}); err != nil {
			t.Fatal(err)
		}
	}
	good := func() {
		var b batch
		b.reserve(50, 0)
		for i := range 50 {
			e := ev("p", "a", "2024-05-01T10:00:00Z")
			e.User.Name = fmt.Sprintf("user-%d", i)
			b.add(&e, false)
		}
		appendRecord(b.rec[wal.HeaderRoom:], 50)
	}
	for range 10 {
		good() // seq 1..500
	}
	appendRecord([]byte{3, 0xff, 0xff, 0xff}, 1) // seq 501: one frame, field id 255 is no field
	good()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err == nil || !strings.Contains(err.Error(), "record at seq 501") || !strings.Contains(err.Error(), "event 0") {
		t.Fatalf("Open of a WAL with an undecodable record: %v", err)
	}
}
