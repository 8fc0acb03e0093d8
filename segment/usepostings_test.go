package segment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// TestUsePostingsRefusesMisuse: postings given after a row, of another
// layout, or naming a row past the last one added fail the writer, which
// then leaves no file; postings that fit give a file that opens.
func TestUsePostingsRefusesMisuse(t *testing.T) {
	dir := t.TempDir()
	ev := &event.Event{Message: "m", Tags: event.Strings("a")}
	tags := func(rows ...uint32) *index.Builder {
		b := index.NewBuilderFor(index.Layout(Version))
		if err := b.AddRows(index.Term{Field: "tags", Value: "a"}, rows); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// write writes two rows to path, giving b before row at.
	write := func(path string, b *index.Builder, at int) error {
		w, err := Create(path, WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if i == at {
				err = w.UsePostings(b)
			}
			if err == nil {
				err = w.Add(Row{Seq: uint64(i + 1), Event: ev})
			}
			if err != nil {
				w.Abort()
				return err
			}
		}
		_, err = w.Finish()
		return err
	}
	for name, c := range map[string]struct {
		b  *index.Builder
		at int
	}{
		"after a row":      {tags(0, 1), 1},
		"another layout":   {index.NewBuilderFor(index.LayoutV1), 0},
		"row past the end": {tags(0, 2), 0},
	} {
		path := filepath.Join(dir, name+".seg")
		if err := write(path, c.b, c.at); err == nil {
			t.Errorf("%s: the writer succeeded", name)
		}
		for _, p := range []string{path, path + ".tmp"} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s: %s left behind (%v)", name, filepath.Base(p), err)
			}
		}
	}
	path := filepath.Join(dir, "fits.seg")
	if err := write(path, tags(0, 1), 0); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}
