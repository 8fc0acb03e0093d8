package segment

import (
	"os"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestSizesAddUp: a segment's Sizes account for every byte of its file
// (blocks, index sections, and a header and footer of a few bytes), name
// each column once by its field, count a sequence number per row, and
// hold no more column bytes than the blocks do.
func TestSizesAddUp(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")})
		defer r.Close()
		s, err := r.Sizes()
		if err != nil {
			t.Fatalf("Sizes: %v", err)
		}
		st, err := os.Stat(r.Path())
		if err != nil {
			t.Fatal(err)
		}
		other := s.File - s.Blocks - s.BlockIndex - s.Postings - s.SeqIndex
		if s.File != st.Size() || s.Events != int64(len(rows)) || other <= 0 || other > 256 {
			t.Fatalf("file %d (stat %d), events %d (rows %d), header and footer %d", s.File, st.Size(), s.Events, len(rows), other)
		}
		var stored int64
		names := map[string]bool{}
		for _, c := range s.Columns {
			if names[c.Name] {
				t.Fatalf("column %s listed twice", c.Name)
			}
			names[c.Name] = true
			stored += c.Stored
			if c.Name == "(sequence)" && c.Values != len(rows) {
				t.Fatalf("the sequence column holds %d values for %d rows", c.Values, len(rows))
			}
			if c.Name != "(sequence)" && c.Name != event.ExtraFieldName && event.FieldByName(c.Name) == nil {
				t.Fatalf("column %q names no field", c.Name)
			}
		}
		if stored > s.Blocks {
			t.Fatalf("columns hold %d bytes, the blocks %d", stored, s.Blocks)
		}
	})
}
