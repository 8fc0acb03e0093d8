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
	r.describeColumns(w)
	return r.describePostings(w)
}

func fmtTS(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

func colName(id uint8) string {
	if id == colSeq {
		return "(sequence)"
	}
	return event.FieldByID(id).Name
}

func (r *Reader) describeColumns(w io.Writer) {
	type total struct {
		id             uint8
		blocks, values int
		stored, raw    uint64
	}
	sums := map[uint8]*total{}
	for _, b := range r.blocks {
		for _, c := range b.Cols {
			t := sums[c.ID]
			if t == nil {
				t = &total{id: c.ID}
				sums[c.ID] = t
			}
			t.blocks++
			t.values += int(c.Count)
			t.stored += c.CLen
			t.raw += c.RawLen
		}
	}
	list := make([]*total, 0, len(sums))
	for _, t := range sums {
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b *total) int { return cmp.Compare(b.stored, a.stored) })
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "column\tblocks\tvalues\tstored\traw\tB/event\t")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t\n", colName(t.id), t.blocks, t.values, t.stored, t.raw, float64(t.stored)/float64(r.f.Events))
	}
	tw.Flush()
}

func (r *Reader) describePostings(w io.Writer) error {
	perField := map[string]int{}
	bitmapBytes := map[string]int{}
	var fields []string
	var all []index.TermInfo
	err := r.post.Each(func(t index.TermInfo) error {
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
	fmt.Fprintf(w, "postings: %d terms (bitmap bytes per field; inline lists are in the dictionary)\n", r.post.Len())
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
