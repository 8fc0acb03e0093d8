package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestBulkSplitReservesOnce: splitting a body of 10,000 lines (blank ones
// among them) finds exactly its non-blank lines, in order, and allocates
// each of the bulk's three lists once, not once per doubling.
func TestBulkSplitReservesOnce(t *testing.T) {
	var lines []string
	for i := range 10000 {
		lines = append(lines, fmt.Sprintf(`{"n":%d}`, i))
		if i%1000 == 0 {
			lines = append(lines, "  ")
		}
	}
	body := []byte(strings.Join(lines, "\n") + "\n")
	var b *bulk
	allocs := testing.AllocsPerRun(5, func() {
		b = &bulk{}
		if err := b.split(body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 { // the bulk and its three lists
		t.Errorf("split made %v allocations, want at most 4", allocs)
	}
	if len(b.docs) != 10000 {
		t.Fatalf("%d documents, want 10000", len(b.docs))
	}
	for i, doc := range b.docs {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(doc) != want {
			t.Fatalf("document %d is %q, want %q", i, doc, want)
		}
	}
}
