package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
)

// blockOneDamaged builds segmentStore's store, flips a bit in the middle
// of its big segment's block 1 and opens it. It returns the store's
// contents, the big segment and the damaged block as salvage saw it
// intact.
func blockOneDamaged(t *testing.T, opts Options) (*DB, string, map[uint64]string, segmentMeta, segment.SalvagedBlock) {
	t.Helper()
	dir := t.TempDir()
	want, big := segmentStore(t, dir)
	path := filepath.Join(dir, "segments", big.Name)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	flipAt(t, path, int64(sal.Blocks[1].Off+sal.Blocks[1].Len/2))
	return mustOpen(t, dir, opts), dir, want, big, sal.Blocks[1]
}

// inBlock reports whether seq is one of the damaged block's events:
// segmentStore appends the big segment's events in time order, so block 1
// holds the second DefaultBlockRows of them.
func inBlock(seq uint64) bool {
	return seq > segment.DefaultBlockRows && seq <= 2*segment.DefaultBlockRows
}

// TestDamageFoundWhileServing: the first read of a damaged block confirms
// it and quarantines its segment; reads that reach it then fail with a
// CorruptionError naming it, partial queries answer exactly the rest,
// tails stop before it, and the quarantine outlives a reopen.
func TestDamageFoundWhileServing(t *testing.T) {
	db, dir, want, big, block := blockOneDamaged(t, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	inRange := query.Request{Start: "2024-01-01T00:00:10Z", End: "2024-01-01T00:00:11Z"}
	_, err := db.Query(ctx, inRange)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.File != big.Name || ce.Block != 1 || !errors.Is(err, ErrCorrupt) || !errors.Is(err, segment.ErrCorrupt) {
		t.Fatalf("query over the damaged block: %v", err)
	}
	if ce.MinSeq != block.MinSeq || ce.MaxSeq != block.MaxSeq {
		t.Fatalf("damage %+v, want sequence numbers %d-%d", ce.Damage, block.MinSeq, block.MaxSeq)
	}
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{big.Name}) {
		t.Fatalf("quarantined %v", q)
	}
	for _, f := range []string{big.Name, big.Name + sidecarExt} {
		if _, err := os.Stat(filepath.Join(dir, quarantineDir, f)); err != nil {
			t.Fatalf("quarantine/%s: %v", f, err)
		}
	}
	if _, err := db.Find(ctx, FindRequest{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("find over everything: %v", err)
	}

	got := partialQuery(t, db)
	var intact []uint64
	for seq := range want {
		if !inBlock(seq) {
			intact = append(intact, seq)
		}
	}
	slices.Sort(intact)
	if !slices.Equal(got, intact) {
		t.Fatalf("partial query: %d events, want the %d outside block 1", len(got), len(intact))
	}
	res, err := db.Aggregate(ctx, query.Request{AllowPartial: true})
	if err != nil || res.Total != len(intact) || !res.Partial || len(res.Warnings) != 1 || res.Warnings[0].Block != 1 {
		t.Fatalf("partial count: %+v, %v", res, err)
	}

	tailed, err := tailUntilError(t, db)
	if !errors.As(err, &ce) || ce.Block != 1 {
		t.Fatalf("tail ended with %v, want the damaged block", err)
	}
	if len(tailed) != segment.DefaultBlockRows || tailed[len(tailed)-1] != block.MinSeq-1 {
		t.Fatalf("tail yielded %d events up to %d, want every one before %d", len(tailed), tailed[len(tailed)-1], block.MinSeq)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{big.Name}) {
		t.Fatalf("quarantined %v after reopening", q)
	}
	if _, err := db.Query(ctx, query.Request{}); !errors.As(err, &ce) || ce.File != big.Name || ce.Block != -1 {
		t.Fatalf("query after reopening: %v, want the quarantined file", err)
	}
}

// TestTailFindsDamage: a tail that is first to read a damaged block
// yields every event before it, then the confirmed damage.
func TestTailFindsDamage(t *testing.T) {
	db, _, _, big, block := blockOneDamaged(t, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	tailed, err := tailUntilError(t, db)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.File != big.Name || ce.Block != 1 {
		t.Fatalf("tail ended with %v, want the damaged block", err)
	}
	if n := len(tailed); n != segment.DefaultBlockRows || tailed[n-1] != block.MinSeq-1 {
		t.Fatalf("tail yielded %d events, want the %d before %d", n, segment.DefaultBlockRows, block.MinSeq)
	}
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{big.Name}) {
		t.Fatalf("quarantined %v", q)
	}
}

// TestDamageNotConfirmed: a read failure the file does not repeat (a
// passing fault: a bad read, a bit flipped in memory) sets nothing aside.
func TestDamageNotConfirmed(t *testing.T) {
	db, _, _, big, _ := blockOneDamaged(t, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	var healthy string
	for _, s := range db.state.Load().segments {
		if s.meta.Name != big.Name {
			healthy = s.r.Path()
		}
	}
	failed := &segment.CorruptionError{File: healthy, Section: segment.SectionBlock, Block: 0, Err: errors.New("crc mismatch")}
	if err := db.checkDamage(failed); err != error(failed) || len(db.Stats().Quarantined) != 0 {
		t.Fatalf("unconfirmed damage: %v, quarantined %v", err, db.Stats().Quarantined)
	}
	if n := len(db.Segments()); n != 3 {
		t.Fatalf("%d live segments, want 3", n)
	}
}

// partialQuery returns the sequence numbers of every event a partial query
// answers, sorted.
func partialQuery(t *testing.T, db *DB) []uint64 {
	t.Helper()
	var out []uint64
	req := query.Request{PerPage: 10_000, AllowPartial: true}
	for {
		res, err := db.Query(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			out = append(out, h.Seq)
		}
		if res.Next == "" {
			break
		}
		req.SearchAfter = res.Next
	}
	slices.Sort(out)
	return out
}

// tailUntilError tails from the beginning until the tail yields an error
// and returns the sequence numbers before it.
func tailUntilError(t *testing.T, db *DB) ([]uint64, error) {
	t.Helper()
	tail, err := db.Tail(ctx, TailRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for rec, err := range tail {
		if err != nil {
			return seqs, err
		}
		seqs = append(seqs, rec.Seq)
	}
	return seqs, nil
}

// TestDamageFoundUnderConcurrentReads: readers racing over a damaged block
// all get the partial answer (each reads it or finds it set aside), and
// the segment is quarantined once.
func TestDamageFoundUnderConcurrentReads(t *testing.T) {
	db, _, want, big, _ := blockOneDamaged(t, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	intact := 0
	for seq := range want {
		if !inBlock(seq) {
			intact++
		}
	}
	const readers = 8
	errs := make(chan error, readers)
	for range readers {
		go func() {
			// message is not indexed: every block is decoded.
			res, err := db.Aggregate(ctx, query.Request{Filter: "message:*", AllowPartial: true})
			switch {
			case err != nil:
				errs <- err
			case res.Total != intact || !res.Partial:
				errs <- fmt.Errorf("total %d, partial %v: want %d, partial", res.Total, res.Partial, intact)
			default:
				errs <- nil
			}
		}()
	}
	for range readers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{big.Name}) {
		t.Fatalf("quarantined %v", q)
	}
}

// TestCompactionFindsDamage: a merge reading a damaged block sets its
// segment aside, so the next compaction goes on without it.
func TestCompactionFindsDamage(t *testing.T) {
	dir := t.TempDir()
	opts := Options{AllowUnregistered: true, MaintenanceInterval: -1}
	db := mustOpen(t, dir, opts)
	for k := range 4 { // four alike segments of one day: one merge
		appendAll(t, db, bulk(2*segment.DefaultBlockRows+500, fmt.Sprintf("2024-01-01T0%d:00:00Z", k), k), 5000, map[uint64]string{})
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := db.manifest.Segments[0].Name
	db.Close()
	path := filepath.Join(dir, "segments", first)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	flipAt(t, path, int64(sal.Blocks[1].Off+sal.Blocks[1].Len/2))

	db = mustOpen(t, dir, opts)
	_, err = db.Compact(ctx)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.File != first || ce.Block != 1 {
		t.Fatalf("compaction over the damaged block: %v", err)
	}
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{first}) {
		t.Fatalf("quarantined %v", q)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatalf("compaction after the quarantine: %v", err)
	}
}

// TestPartialQueryFindsSeveralDamages: a partial query that meets two
// damaged segments not yet known answers without both.
func TestPartialQueryFindsSeveralDamages(t *testing.T) {
	dir := t.TempDir()
	want, big := segmentStore(t, dir)
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	small := m.Segments[1]
	lost := map[string]int{big.Name: 1, small.Name: 0} // segment: damaged block
	for name, bi := range lost {
		path := filepath.Join(dir, "segments", name)
		sal, err := segment.Salvage(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		flipAt(t, path, int64(sal.Blocks[bi].Off+sal.Blocks[bi].Len/2))
	}
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	res, err := db.Aggregate(ctx, query.Request{Filter: "message:*", AllowPartial: true})
	if wantTotal := len(want) - segment.DefaultBlockRows - small.Events; err != nil || res.Total != wantTotal || len(res.Warnings) != 2 {
		t.Fatalf("partial count: %+v, %v; want %d events and 2 warnings", res, err, wantTotal)
	}
	for _, w := range res.Warnings {
		if bi, ok := lost[w.File]; !ok || w.Block != bi {
			t.Fatalf("warning %+v", w)
		}
	}
}
