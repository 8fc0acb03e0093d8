package segment

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"
)

// TestScratchWritesLikePool: writers given one Scratch in turn (each
// taking the working memory the one before left there, some of them
// aborted midway, in format versions with and without ref keys: the
// column encoder and ref key numbering they take are the last one's)
// write the files writers from the package's pool write, byte for byte;
// after Release the next one starts afresh, alike.
func TestScratchWritesLikePool(t *testing.T) {
	dir := t.TempDir()
	var kept Scratch
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 8).Draw(t, "blockRows"), Version: rapid.IntRange(VersionExtra, Version).Draw(t, "version")}
		want := filepath.Join(dir, "pooled")
		if _, err := Write(want, rows, opts); err != nil {
			t.Fatal(err)
		}
		opts.Scratch = &kept
		if rapid.Bool().Draw(t, "abort first") {
			w, err := Create(filepath.Join(dir, "aborted"), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[:rapid.IntRange(0, len(rows)).Draw(t, "added")] {
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			w.Abort()
		}
		if rapid.Bool().Draw(t, "release") {
			kept.Release()
		}
		got := filepath.Join(dir, "kept")
		if _, err := Write(got, rows, opts); err != nil {
			t.Fatal(err)
		}
		if kept.sc == nil {
			t.Fatal("the writer left its working memory nowhere")
		}
		a, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("the file written with a kept scratch (%d bytes) differs from the pooled one (%d bytes)", len(b), len(a))
		}
	})
}

// TestScratchKeepsNoRowStrings: a writer's kept scratch holds no string of
// the rows it wrote (they point into the caller's events, a head's
// memory): the per-row ref ids and message sources are cleared with the
// staged block; the column encoder's dictionary and the ref keys are
// emptied.
func TestScratchKeepsNoRowStrings(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		var kept Scratch
		rows := genRows(40).Draw(t, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 8).Draw(t, "blockRows"), Scratch: &kept}
		if _, err := Write(filepath.Join(dir, "kept"), rows, opts); err != nil {
			t.Fatal(err)
		}
		st := &kept.sc.stage
		for i, v := range st.rowRefs.ids[:cap(st.rowRefs.ids)] {
			if v != "" {
				t.Fatalf("the kept scratch holds ref id %d of a row: %q", i, v)
			}
		}
		for i, v := range st.msgSources.vals[:cap(st.msgSources.vals)] {
			if v != "" {
				t.Fatalf("the kept scratch holds message source %d of a row: %q", i, v)
			}
		}
		c := kept.sc.cols
		if c == nil || kept.sc.refKeys == nil {
			t.Fatal("the writer kept no column encoder or ref key numbering")
		}
		if len(c.ids) != 0 || len(c.dict) != 0 || len(c.idx) != 0 {
			t.Fatalf("the kept column encoder holds %d ids, %d dictionary values, %d indexes", len(c.ids), len(c.dict), len(c.idx))
		}
		for i, v := range c.dict[:cap(c.dict)] {
			if v != "" {
				t.Fatalf("the kept column encoder holds dictionary value %d: %q", i, v)
			}
		}
		k := kept.sc.refKeys
		if len(k.nums) != 0 || len(k.keys) != 0 {
			t.Fatalf("the kept ref key numbering holds %d keys (%d numbered)", len(k.keys), len(k.nums))
		}
		for i, v := range k.keys[:cap(k.keys)] {
			if v != "" {
				t.Fatalf("the kept ref key numbering holds key %d: %q", i, v)
			}
		}
	})
}
