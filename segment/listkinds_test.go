package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// goldenListRows is how many rows version 8 adds to the golden events:
// enough for lists of more than index.InlineMax rows of each kind.
const goldenListRows = 150

// goldenRowsV8 are goldenRowsV7 with goldenListRows rows (sequence 20
// on, each after the last in time) whose postings take each list kind
// of version 8: event.provider "sparse" on every eighth of them (a delta
// list), "dense" on the others (a bitset), event.action "tick" on the
// first half and "tock" on the second (runs: roaring bitmaps).
func goldenRowsV8(t testing.TB) []Row {
	t.Helper()
	rows := goldenRowsV7(t)
	base := time.Date(2019, 12, 10, 9, 0, 0, 0, time.UTC)
	for k := range goldenListRows {
		provider, action := "dense", "tick"
		if k%8 == 0 {
			provider = "sparse"
		}
		if k >= goldenListRows/2 {
			action = "tock"
		}
		js := fmt.Sprintf(`{"@timestamp":%q,"event":{"provider":%q,"action":%q}}`,
			base.Add(time.Duration(k)*time.Second).Format(time.RFC3339Nano), provider, action)
		ev, err := event.Decode([]byte(js), event.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, Row{Seq: uint64(20 + k), Event: &ev})
	}
	return rows
}

// TestGoldenV7 checks that a writer asked for version 7 still writes
// exactly the released version 7 fixture.
func TestGoldenV7(t *testing.T) { checkOldWriter(t, 7, goldenRowsV7(t)) }

// TestReadV8 opens the fixture of format version 8: every row comes back
// byte for byte (openFixture), each list kind answers its rows, and the
// file is smaller than the same rows written as version 7, whose lists
// are all roaring bitmaps.
func TestReadV8(t *testing.T) {
	rows := goldenRowsV8(t)
	r := openFixture(t, "testdata/golden-v8.seg", rows)
	if info := r.Info(); info.Version != 8 || r.Layout() != index.LayoutV8 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	first := uint32(len(rows) - goldenListRows)
	var sparse, dense, tick, tock []uint32
	for k := range uint32(goldenListRows) {
		if k%8 == 0 {
			sparse = append(sparse, first+k)
		} else {
			dense = append(dense, first+k)
		}
		if k < goldenListRows/2 {
			tick = append(tick, first+k)
		} else {
			tock = append(tock, first+k)
		}
	}
	checkPostings(t, r, []postingCase{
		{index.Term{Field: "event.provider", Value: "sparse"}, sparse},
		{index.Term{Field: "event.provider", Value: "dense"}, dense},
		{index.Term{Field: "event.action", Value: "tick"}, tick},
		{index.Term{Field: "event.action", Value: "tock"}, tock},
		{index.Term{Field: "event.provider", Value: "alerting"}, []uint32{0, 2, 5, 6, 7, 8}},
	})
	got, err := r.UnionTerms("event.provider", "", func(v string) bool { return v == "dense" || v == "sparse" })
	if err != nil || !slices.Equal(got.ToArray(), slices.Sorted(slices.Values(append(slices.Clone(sparse), dense...)))) {
		t.Errorf("UnionTerms(dense, sparse) = %v, %v", got, err)
	}
	v7 := filepath.Join(t.TempDir(), "v7.seg")
	if _, err := Write(v7, rows, WriteOptions{BlockRows: 3, Version: 7}); err != nil {
		t.Fatal(err)
	}
	got7, _ := os.Stat(v7)
	got8, _ := os.Stat("testdata/golden-v8.seg")
	if got8.Size() >= got7.Size() {
		t.Errorf("version 8 file %d bytes, version 7 %d: the list kinds saved nothing", got8.Size(), got7.Size())
	}
}
