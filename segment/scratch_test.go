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
// aborted midway) write the files writers from the package's pool write,
// byte for byte; after Release the next one starts afresh, alike.
func TestScratchWritesLikePool(t *testing.T) {
	dir := t.TempDir()
	var kept Scratch
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		opts := WriteOptions{BlockRows: rapid.IntRange(1, 8).Draw(t, "blockRows")}
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
// staged block.
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
	})
}
