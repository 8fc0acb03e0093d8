package segment

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// Describe writes a human summary of the segment for `eventlog inspect`:
// the footer, one line per block, the stored and raw bytes of each column
// over all blocks, and the postings (terms per field, largest bitmaps).
func (r *Reader) Describe(w io.Writer) error {
	if err := r.live(); err != nil {
		return err
	}
	f := &r.f
	fmt.Fprintf(w, "segment %s\n  version %d, %d bytes, %d events, %d blocks\n", r.path, f.Version, r.size, f.Events, f.Blocks)
	fmt.Fprintf(w, "  @timestamp %s .. %s\n  sequence %d .. %d\n", fmtTS(f.MinTS), fmtTS(f.MaxTS), f.MinSeq, f.MaxSeq)
	fmt.Fprintf(w, "  block index %d bytes, postings %d bytes, sequence index %d bytes (%d runs)\n",
		f.BlockIndex.Len, f.Postings.Len, f.SeqIndex.Len, len(r.runs))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "block\tfirst row\trows\tbytes\tcolumns\tfrom\tto\t")
	for i, b := range r.blocks {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", i, b.FirstRow, b.Rows, b.Len, len(b.Cols), fmtTS(b.MinTS), fmtTS(b.MaxTS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := r.describeColumns(w); err != nil {
		return err
	}
	return r.describePostings(w)
}

func fmtTS(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

func colName(id uint8) string {
	if id == colSeq {
		return "(sequence)"
	}
	return event.FieldByID(id).Name
}

// Sizes is where a segment's bytes go: by section, by column over all
// blocks, and by field in the postings. `eventlog inspect` prints it and
// `eventlog bench` sums it over a store.
type Sizes struct {
	Events int64
	// File is the whole file; Blocks the data blocks (their column
	// bytes and block headers); the index sections follow. File less the
	// four is the header and footer.
	File, Blocks, BlockIndex, Postings, SeqIndex int64
	// Columns are the columns, largest stored first.
	Columns []ColumnSize
	// PostingsByField sums the bitmaps' bytes by field (inline postings
	// count 0; the rest of the section is the term dictionary).
	PostingsByField map[string]int64
}

// ColumnSize is one column's bytes over all blocks of a segment.
type ColumnSize struct {
	// Name is the event field's name, or "(sequence)".
	Name           string
	Blocks, Values int
	// Stored is the bytes in the file, Raw the bytes decoded.
	Stored, Raw int64
}

// Sizes reads where the segment's bytes go from its block index and
// postings (already verified on open; no block is read).
func (r *Reader) Sizes() (Sizes, error) {
	if err := r.live(); err != nil {
		return Sizes{}, err
	}
	f := &r.f
	s := Sizes{Events: int64(f.Events), File: r.size, BlockIndex: int64(f.BlockIndex.Len),
		Postings: int64(f.Postings.Len), SeqIndex: int64(f.SeqIndex.Len), PostingsByField: map[string]int64{}}
	sums := map[uint8]*ColumnSize{}
	for _, b := range r.blocks {
		s.Blocks += int64(b.Len)
		for _, c := range b.Cols {
			t := sums[c.ID]
			if t == nil {
				t = &ColumnSize{Name: colName(c.ID)}
				sums[c.ID] = t
			}
			t.Blocks++
			t.Values += int(c.Count)
			t.Stored += int64(c.CLen)
			t.Raw += int64(c.RawLen)
		}
	}
	for _, t := range sums {
		s.Columns = append(s.Columns, *t)
	}
	slices.SortFunc(s.Columns, func(a, b ColumnSize) int { return cmp.Or(cmp.Compare(b.Stored, a.Stored), cmp.Compare(a.Name, b.Name)) })
	post, err := r.postings()
	if err != nil {
		return s, err
	}
	err = post.Each(func(t index.TermInfo) error {
		s.PostingsByField[t.Field] += int64(t.Bytes)
		return nil
	})
	if err != nil {
		return s, r.corrupt(SectionPostings, -1, err)
	}
	return s, nil
}

func (r *Reader) describeColumns(w io.Writer) error {
	s, err := r.Sizes()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  bytes: blocks %d, block index %d, postings %d, sequence index %d, header and footer %d\n",
		s.Blocks, s.BlockIndex, s.Postings, s.SeqIndex, s.File-s.Blocks-s.BlockIndex-s.Postings-s.SeqIndex)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "column\tblocks\tvalues\tstored\traw\tB/event\t")
	for _, t := range s.Columns {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t\n", t.Name, t.Blocks, t.Values, t.Stored, t.Raw, float64(t.Stored)/float64(s.Events))
	}
	return tw.Flush()
}

func (r *Reader) describePostings(w io.Writer) error {
	perField := map[string]int{}
	bitmapBytes := map[string]int{}
	var fields []string
	var all []index.TermInfo
	post, err := r.postings()
	if err != nil {
		return err
	}
	err = post.Each(func(t index.TermInfo) error {
		if perField[t.Field] == 0 {
			fields = append(fields, t.Field)
		}
		perField[t.Field]++
		bitmapBytes[t.Field] += t.Bytes
		t.Rows = nil
		all = append(all, t)
		return nil
	})
	if err != nil {
		return r.corrupt(SectionPostings, -1, err)
	}
	fmt.Fprintf(w, "postings: %d terms (bitmap bytes per field; inline lists are in the dictionary)\n", post.Len())
	for _, f := range fields {
		fmt.Fprintf(w, "  %-32s %6d terms %9d bitmap bytes\n", f, perField[f], bitmapBytes[f])
	}
	slices.SortStableFunc(all, func(a, b index.TermInfo) int { return cmp.Compare(b.Bytes, a.Bytes) })
	fmt.Fprintln(w, "largest bitmaps:")
	for _, t := range all[:min(10, len(all))] {
		if t.Bytes > 0 {
			fmt.Fprintf(w, "  %8d bytes  %s=%q\n", t.Bytes, t.Field, t.Value)
		}
	}
	return nil
}
