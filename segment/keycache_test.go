package segment

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/memory"
)

// TestKeyCacheChargesItsEntries reads random blocks' keys of a segment
// opened with KeyMemory under a random budget and checks, after every read,
// the keys against those of a reader without a cache budget, and the
// account against the cache: it holds exactly the bytes of the entries
// kept, never more than keyCacheSize of them, never takes the budget past
// its limit, and is empty once the reader is closed.
func TestKeyCacheChargesItsEntries(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		rows := genRows(400).Draw(rt, "rows")
		plain := writeOpen(rt, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 50).Draw(rt, "block_rows")})
		defer plain.Close()
		limit := rapid.Int64Range(1, 4000).Draw(rt, "limit")
		budget := memory.New(limit)
		acct := budget.Account("segment_keys")
		r, err := Open(filepath.Join(dir, "seg"), OpenOptions{KeyMemory: acct})
		if err != nil {
			rt.Fatalf("Open: %v", err)
		}
		blocks := len(r.Blocks())
		for range rapid.IntRange(1, 30).Draw(rt, "reads") {
			bi := rapid.IntRange(0, blocks-1).Draw(rt, "block")
			ts, seq, err := r.Keys(bi)
			wantTS, wantSeq, werr := plain.Keys(bi)
			if err != nil || werr != nil || !slices.Equal(ts, wantTS) || !slices.Equal(seq, wantSeq) {
				rt.Fatalf("block %d: keys %v %v (%v), want %v %v (%v)", bi, ts, seq, err, wantTS, wantSeq, werr)
			}
			var kept, n int64
			for _, e := range r.kc.entries {
				if e.keys != nil {
					kept += e.keys.bytes()
					n++
				}
			}
			if acct.Used() != kept || n > keyCacheSize || budget.Peak() > limit {
				rt.Fatalf("account holds %d for %d entries of %d bytes; peak %d of %d", acct.Used(), n, kept, budget.Peak(), limit)
			}
		}
		if err := r.Close(); err != nil {
			rt.Fatal(err)
		}
		if acct.Used() != 0 {
			rt.Fatalf("a closed reader left %d bytes charged", acct.Used())
		}
		os.Remove(filepath.Join(dir, "seg"))
	})
}
