package destination

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/segment"
)

// TestParksBeforeDamagedEvents: a destination reaching a damaged block
// delivers every event before it, then parks there, naming it, instead of
// skipping it.
func TestParksBeforeDamagedEvents(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	appendN(t, db, 0, 2*segment.DefaultBlockRows+500)
	if err := db.Close(); err != nil { // seals them into one segment of 3 blocks
		t.Fatal(err)
	}
	segs, _ := os.ReadDir(filepath.Join(dir, "db", "segments"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	name := segs[0].Name()
	path := filepath.Join(dir, "db", "segments", name)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	b, _ := os.ReadFile(path)
	b[sal.Blocks[1].Off+sal.Blocks[1].Len/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir+"/db")
	defer db.Close()
	rc := &receiver{t: t}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	m, err := Open(db, dir+"/dest", nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Put(Config{Name: "r", URL: srv.URL, Start: "beginning"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "parking", func() bool { st, _ := m.Get("r"); return st.Parked != "" })
	st, _ := m.Get("r")
	if !strings.Contains(st.Parked, name) || !strings.Contains(st.Parked, "block 1") || st.Cursor != sal.Blocks[1].MinSeq-1 {
		t.Fatalf("parked status %+v, want parked before %s block 1 at cursor %d", st, name, sal.Blocks[1].MinSeq-1)
	}
	if got := rc.delivered(); !slices.Equal(got, seqRangeOf(1, sal.Blocks[1].MinSeq-1, 1)) {
		t.Fatalf("delivered %d events, want the %d before the damaged block", len(got), sal.Blocks[1].MinSeq-1)
	}
}
