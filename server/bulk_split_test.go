package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestBulkSplitReservesOnce: splitting a body of 10,000 lines (blank ones
// among them) finds exactly its non-blank lines, in order, and allocates
// each of the bulk's lists once, not once per doubling: it allocates no
// more than splitting 10 lines does. (A fixed count would not hold under
// -race, whose instrumentation allocates too.)
func TestBulkSplitReservesOnce(t *testing.T) {
	body := func(n int) []byte {
		var lines []string
		for i := range n {
			lines = append(lines, fmt.Sprintf(`{"n":%d}`, i))
			if i%1000 == 0 {
				lines = append(lines, "  ")
			}
		}
		return []byte(strings.Join(lines, "\n") + "\n")
	}
	var b *bulk
	split := func(body []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			b = &bulk{}
			if err := b.split(body); err != nil {
				t.Fatal(err)
			}
		})
	}
	small := split(body(10))
	large := split(body(10000))
	if large > small {
		t.Errorf("split made %v allocations for 10,000 lines and %v for 10: the lists grow by doubling", large, small)
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
