package bench

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/eventlogdb/eventlog/segment"
)

// Layout is where the bytes of a store's segments go, summed over its
// segments from each one's segment.Sizes: by family of columns (a field's
// first name component, kibana's first two: "event", "kibana.alert"), by
// column, by section and by postings field.
type Layout struct {
	Events   int64 `json:"events"`
	Segments int   `json:"segments"`
	Bytes    int64 `json:"bytes"`
	// Families and Columns are largest first. The families include the
	// non-column parts: "(block headers)" (a block's bytes beyond its
	// columns'), "(postings)", "(block index)", "(sequence index)" and
	// "(header and footer)".
	Families []LayoutPart `json:"families"`
	Columns  []LayoutPart `json:"columns"`
	// Postings are the postings' bitmap bytes by field, largest first;
	// "(term dictionary)" is the rest of the section.
	Postings []LayoutPart `json:"postings"`
}

// LayoutPart is one part's bytes; Raw (columns only) is its decoded size.
type LayoutPart struct {
	Name          string  `json:"name"`
	Bytes         int64   `json:"bytes"`
	Raw           int64   `json:"raw,omitempty"`
	BytesPerEvent float64 `json:"bytes_per_event"`
}

// StoreLayout sums the layout of the segments in dir/segments (a data
// directory, not in use by a writer).
func StoreLayout(dir string) (*Layout, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "segments", "*.seg"))
	if err != nil {
		return nil, err
	}
	var sizes []segment.Sizes
	for _, p := range paths {
		s, err := segmentSizes(p)
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, s)
	}
	return sumLayout(sizes), nil
}

func segmentSizes(path string) (segment.Sizes, error) {
	r, err := segment.Open(path, segment.OpenOptions{})
	if err != nil {
		return segment.Sizes{}, err
	}
	s, err := r.Sizes()
	if err = errors.Join(err, r.Close()); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// sumLayout adds up segments' sizes.
func sumLayout(sizes []segment.Sizes) *Layout {
	l := &Layout{Segments: len(sizes)}
	fams, cols, raw, post := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, s := range sizes {
		l.Events += s.Events
		l.Bytes += s.File
		var inCols, bitmaps int64
		for _, c := range s.Columns {
			fams[family(c.Name)] += c.Stored
			cols[c.Name] += c.Stored
			raw[c.Name] += c.Raw
			inCols += c.Stored
		}
		for f, n := range s.PostingsByField {
			post[f] += n
			bitmaps += n
		}
		post["(term dictionary)"] += s.Postings - bitmaps
		fams["(block headers)"] += s.Blocks - inCols
		fams["(postings)"] += s.Postings
		fams["(block index)"] += s.BlockIndex
		fams["(sequence index)"] += s.SeqIndex
		fams["(header and footer)"] += s.File - s.Blocks - s.BlockIndex - s.Postings - s.SeqIndex
	}
	l.Families = l.parts(fams, nil)
	l.Columns = l.parts(cols, raw)
	l.Postings = l.parts(post, nil)
	return l
}

// family is the column family of a field name.
func family(name string) string {
	parts := strings.SplitN(name, ".", 3)
	if parts[0] == "kibana" && len(parts) > 1 {
		return parts[0] + "." + parts[1]
	}
	return parts[0]
}

// parts lists m's entries, largest first, per event too.
func (l *Layout) parts(m, raw map[string]int64) []LayoutPart {
	out := make([]LayoutPart, 0, len(m))
	for name, n := range m {
		p := LayoutPart{Name: name, Bytes: n, Raw: raw[name]}
		if l.Events > 0 {
			p.BytesPerEvent = float64(n) / float64(l.Events)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b LayoutPart) int { return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Name, b.Name)) })
	return out
}

// WriteText writes the layout as three tables: families, columns and
// postings, each part with its bytes per event and share.
func (l *Layout) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "segments: %d files, %s, %d events, %.1f B/event\n", l.Segments, bytesIEC(l.Bytes), l.Events, perEvent(l.Bytes, l.Events))
	for _, t := range []struct {
		title string
		parts []LayoutPart
	}{{"family", l.Families}, {"column", l.Columns}, {"postings", l.Postings}} {
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "\n%s\tbytes\tB/event\tshare\t\n", t.title)
		for _, p := range t.parts {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f%%\t\n", p.Name, p.Bytes, p.BytesPerEvent, 100*float64(p.Bytes)/float64(max(l.Bytes, 1)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// familiesLine is the families on one line, for the bench report.
func (l *Layout) familiesLine() string {
	parts := make([]string, 0, len(l.Families))
	for _, p := range l.Families {
		parts = append(parts, fmt.Sprintf("%s %.1f", p.Name, p.BytesPerEvent))
	}
	return strings.Join(parts, ", ")
}

func perEvent(n, events int64) float64 {
	if events == 0 {
		return 0
	}
	return float64(n) / float64(events)
}
