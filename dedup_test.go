package eventlog

import (
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/query"
)

// withID is e with client id id.
func withID(e Event, id string) Event { e.ClientID = id; return e }

// TestAppendDeduplicatesClientIDs: repeats within a batch and across
// batches, with the same or different content, and a retry without
// @timestamp of a stamped event.
func TestAppendDeduplicatesClientIDs(t *testing.T) {
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, Now: func() time.Time { return now }})
	a := ev("p", "a", "2024-05-01T00:00:00Z")
	b := ev("p", "b", "2024-05-01T00:00:01Z")
	noTS := ev("p", "c", "")

	got, err := db.Append(ctx, withID(a, "x"), b, withID(a, "x"), withID(b, "x"), withID(noTS, "y"))
	if err != nil {
		t.Fatal(err)
	}
	want := []AppendedItem{{1, Created}, {2, Created}, {1, Duplicate}, {1, Conflict}, {3, Created}}
	checkItems(t, got, want)
	if got.FirstSeq != 1 || got.Count != 5 {
		t.Fatalf("FirstSeq %d Count %d", got.FirstSeq, got.Count)
	}

	// Later, the stamp differs: the retry without @timestamp is the same
	// content; an explicit different @timestamp is not.
	now = now.Add(time.Hour)
	other := noTS
	other.Timestamp = ts("2020-01-01T00:00:00Z")
	got, err = db.Append(ctx, withID(noTS, "y"), withID(a, "x"), withID(other, "y"), withID(b, "z"))
	if err != nil {
		t.Fatal(err)
	}
	checkItems(t, got, []AppendedItem{{3, Duplicate}, {1, Duplicate}, {3, Conflict}, {4, Created}})

	// Nothing new: no sequence number used, Seq still answers.
	got, err = db.Append(ctx, withID(a, "x"))
	if err != nil {
		t.Fatal(err)
	}
	checkItems(t, got, []AppendedItem{{1, Duplicate}})
	if got.FirstSeq != 0 || got.Seq(0) != 1 || got.IDs()[0] != IDOf(1) {
		t.Fatalf("all-duplicate answer %+v", got)
	}
	if n := countAll(t, db); n != 4 {
		t.Fatalf("stored %d events, want 4", n)
	}
}

// TestAppendWithoutClientIDsHasNoItems: the old answer is unchanged.
func TestAppendWithoutClientIDsHasNoItems(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	got, err := db.Append(ctx, ev("p", "a", "2024-05-01T00:00:00Z"), ev("p", "a", "2024-05-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Items != nil || got.Seq(1) != 2 || got.Count != 2 {
		t.Fatalf("got %+v", got)
	}
}

func checkItems(t *testing.T, got Appended, want []AppendedItem) {
	t.Helper()
	if len(got.Items) != len(want) {
		t.Fatalf("items %v, want %v", got.Items, want)
	}
	for i := range want {
		if got.Items[i] != want[i] || got.Seq(i) != want[i].Seq {
			t.Fatalf("item %d: %+v (Seq %d), want %+v; all %v", i, got.Items[i], got.Seq(i), want[i], got.Items)
		}
	}
}

func countAll(t *testing.T, db *DB) int {
	t.Helper()
	n, err := db.Count(ctx, FindRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIndexFilter: _index is filterable by KQL, in the head and in a
// segment (whose postings hold it).
func TestIndexFilter(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	a, b := ev("p", "a", "2024-05-01T00:00:00Z"), ev("p", "a", "2024-05-01T00:00:01Z")
	a.Index, b.Index = "logs-a", "logs-b"
	for _, roll := range []bool{false, true} {
		if _, err := db.Append(ctx, a, b, b); err != nil {
			t.Fatal(err)
		}
		if roll {
			if err := db.Roll(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for filter, want := range map[string]int{"_index:logs-a": 2, "_index:logs-b": 4, "_index:logs-*": 6, "not _index:*": 0} {
		res, err := db.Query(ctx, query.Request{Filter: filter})
		if err != nil || res.Total != want {
			t.Errorf("%s: %v hits (%v), want %d", filter, res, err, want)
		}
	}
}
