package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
)

// backupOpts seal often and keep WAL files small, so a backup meets
// several segments and log files.
func backupOpts() Options {
	return Options{AllowUnregistered: true, Sync: SyncNone, SegmentMaxBytes: 64 << 10, WALMaxFileBytes: 32 << 10}
}

func mustBackup(t *testing.T, db *DB, dir string) BackupResult {
	t.Helper()
	res, err := db.Backup(ctx, dir)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return res
}

// restoredContents restores the backup in dir to a new directory, checks
// it with Verify and returns message by seq of every event it holds.
func restoredContents(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "restored")
	res, err := Restore(ctx, dir, to)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Dir != to || res.FilesCopied == 0 {
		t.Fatalf("restore result %+v", res)
	}
	mustVerify(t, to)
	return storeContents(t, to)
}

// readOnlyContents opens dir read-only (changing nothing in it) and
// returns message by seq of every event.
func readOnlyContents(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	db := mustOpen(t, dir, Options{ReadOnly: true})
	defer db.Close()
	out := map[uint64]string{}
	for _, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
		out[r.Seq] = r.Event.Message
	}
	return out
}

// upTo returns the entries of acked with seq <= seq.
func upTo(acked map[uint64]string, seq uint64) map[uint64]string {
	out := map[uint64]string{}
	for s, m := range acked {
		if s <= seq {
			out[s] = m
		}
	}
	return out
}

// appender appends from several goroutines until stopped, recording what
// Append acknowledged.
type appender struct {
	db    *DB
	mu    sync.Mutex
	acked map[uint64]string
	err   error
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startAppenders(db *DB, n int) *appender {
	a := &appender{db: db, acked: map[uint64]string{}, stop: make(chan struct{})}
	for g := range n {
		a.wg.Add(1)
		go a.run(g)
	}
	return a
}

func (a *appender) run(g int) {
	defer a.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-a.stop:
			return
		default:
		}
		evs := bulk(20, "2026-12-01T00:00:00Z", g*1_000_000+i)
		res, err := a.db.Append(ctx, evs...)
		a.mu.Lock()
		if err != nil && a.err == nil {
			a.err = err
		}
		for j := range evs {
			if err == nil {
				a.acked[res.Seq(j)] = evs[j].Message
			}
		}
		a.mu.Unlock()
	}
}

func (a *appender) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.acked)
}

func (a *appender) finish(t *testing.T) map[uint64]string {
	t.Helper()
	close(a.stop)
	a.wg.Wait()
	if a.err != nil {
		t.Fatalf("append: %v", a.err)
	}
	return a.acked
}

// waitAcked waits until the appenders have had n more events acknowledged.
func (a *appender) waitAcked(n int) {
	for start := a.count(); a.count() < start+n; {
		time.Sleep(time.Millisecond)
	}
}

// TestBackupWhileAppending: four goroutines append while backups run
// (with compaction merging underneath); each backup, restored, holds
// exactly the acknowledged events with seq <= its reported seq, and
// verifies clean. Appends go on during the copy.
func TestBackupWhileAppending(t *testing.T) {
	opts := backupOpts()
	opts.MaintenanceInterval = 10 * time.Millisecond
	db := mustOpen(t, t.TempDir(), opts)
	a := startAppenders(db, 4)
	a.waitAcked(3000)
	target := filepath.Join(t.TempDir(), "backup")
	var results []BackupResult
	var during []int
	for range 3 {
		before := a.count()
		results = append(results, mustBackup(t, db, target))
		during = append(during, a.count()-before)
		mustVerify(t, target)
		a.waitAcked(1000)
	}
	acked := a.finish(t)
	last := results[len(results)-1]
	want := upTo(acked, last.Seq)
	if got := readOnlyContents(t, target); !maps2equal(got, want) {
		t.Fatalf("backup at seq %d opened read-only: %d events, want the %d acknowledged up to it", last.Seq, len(got), len(want))
	}
	if got := restoredContents(t, target); !maps2equal(got, want) {
		t.Fatalf("backup at seq %d: restored %d events, want the %d acknowledged up to it", last.Seq, len(got), len(want))
	}
	if last.Segments == 0 || last.SealedSeq == 0 {
		t.Fatalf("the last backup holds no segment: %+v", last)
	}
	for i, r := range results {
		if r.Seq == 0 || (i > 0 && r.Seq <= results[i-1].Seq) {
			t.Fatalf("backup %d: %+v after %+v", i, r, results[max(i-1, 0)])
		}
	}
	if len(upTo(acked, last.Seq)) == len(acked) {
		t.Fatalf("nothing was appended after the last backup (%d acked, seq %d)", len(acked), last.Seq)
	}
	if during[0]+during[1]+during[2] == 0 {
		t.Fatalf("no append was acknowledged while a backup ran: %v", during)
	}
	t.Logf("backups: %+v; events acknowledged during each: %v", results, during)
}

func maps2equal(a, b map[uint64]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func liveSegmentNames(db *DB) []string {
	var names []string
	for _, s := range db.Segments() {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// TestBackupIncremental: a second backup into the same directory copies
// only the segments sealed since; a copy damaged in the target is copied
// again, not trusted by its name; after a compaction the merged inputs
// leave the target once the new manifest is in.
func TestBackupIncremental(t *testing.T) {
	opts := backupOpts()
	opts.MaintenanceInterval = -1 // compaction runs when the test says
	db := mustOpen(t, t.TempDir(), opts)
	acked := map[uint64]string{}
	sealed := func(round int) { // one more segment in the same time partition
		appendAll(t, db, bulk(500, "2026-12-01T00:00:00Z", round), 100, acked)
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sealed(1)
	sealed(2)
	target := filepath.Join(t.TempDir(), "backup")
	first := mustBackup(t, db, target)
	if first.SegmentsCopied != first.Segments || first.FilesSkipped != 0 || first.Segments < 2 {
		t.Fatalf("first backup: %+v, want every one of several segments copied", first)
	}
	sealed(3)
	sealed(4)
	second := mustBackup(t, db, target)
	if second.FilesSkipped != first.Segments || second.SegmentsCopied != second.Segments-first.Segments || second.SegmentsCopied == 0 {
		t.Fatalf("second backup: %+v; want the first's %d segments skipped and only the new ones copied", second, first.Segments)
	}
	victim := filepath.Join(target, segmentsDirName, liveSegmentNames(db)[0])
	info, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	flipAt(t, victim, info.Size()/2)
	third := mustBackup(t, db, target)
	if third.SegmentsCopied != 1 || third.FilesSkipped != third.Segments-1 {
		t.Fatalf("after damaging one copy: %+v, want that one copied again", third)
	}
	if cr, err := db.Compact(ctx); err != nil || cr.Merges == 0 {
		t.Fatalf("compact: %+v %v", cr, err)
	}
	fourth := mustBackup(t, db, target)
	if got, want := segmentFilesIn(t, target), liveSegmentNames(db); !slices.Equal(got, want) || fourth.FilesRemoved < third.Segments-fourth.Segments {
		t.Fatalf("after compaction: target segments %v, live %v (%+v)", got, want, fourth)
	}
	mustVerify(t, target)
	if got := restoredContents(t, target); !maps2equal(got, acked) {
		t.Fatalf("restored %d events, want %d", len(got), len(acked))
	}
}

// TestBackupInterruptedIsNotComplete: a backup whose copy fails part way
// (a full target disk) leaves a directory that Restore refuses, even when
// it held a complete backup before; the next backup completes it.
func TestBackupInterruptedIsNotComplete(t *testing.T) {
	db := mustOpen(t, t.TempDir(), backupOpts())
	acked := map[uint64]string{}
	appendAll(t, db, bulk(2000, "2026-12-01T00:00:00Z", 1), 100, acked)
	target := filepath.Join(t.TempDir(), "backup")
	mustBackup(t, db, target)
	appendAll(t, db, bulk(2000, "2026-12-02T00:00:00Z", 2), 100, acked)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	faulty := vfs.NewFaulty(vfs.OS{})
	faulty.FailIf(vfs.OpWrite, syscall.ENOSPC, func(path string) bool {
		return strings.Contains(path, string(filepath.Separator)+segmentsDirName+string(filepath.Separator))
	})
	if _, err := db.backup(ctx, faulty, target); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("backup onto a full disk: %v, want ENOSPC", err)
	}
	for _, name := range []string{backupInfoFile, manifestFile} {
		if _, err := os.Stat(filepath.Join(target, name)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after a failed backup: %v, want none", name, err)
		}
	}
	_, err := Restore(ctx, target, filepath.Join(t.TempDir(), "restored"))
	if !errors.Is(err, errIncompleteBackup) || !strings.Contains(err.Error(), "no BACKUP file") {
		t.Fatalf("restore of an interrupted backup: %v, want it refused as incomplete", err)
	}
	res, err := db.backup(ctx, vfs.OS{}, target)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := restoredContents(t, target), upTo(acked, res.Seq); !maps2equal(got, want) || len(want) != len(acked) {
		t.Fatalf("restored %d events, want %d", len(got), len(want))
	}
}

// TestBackupRefusesTargetsInTheStore: the copy and its removals never
// touch the data directory.
func TestBackupRefusesTargetsInTheStore(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, backupOpts())
	for _, target := range []string{dir, filepath.Join(dir, "backup"), filepath.Dir(dir)} {
		if _, err := db.Backup(ctx, target); err == nil || !strings.Contains(err.Error(), "outside the data directory") {
			t.Fatalf("backup to %s: %v, want it refused", target, err)
		}
	}
	busy := t.TempDir() // as while another backup writes there
	lock, err := lockDir(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	if _, err := db.Backup(ctx, busy); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another backup is writing there") {
		t.Fatalf("backup to a directory being written: %v", err)
	}
}

// TestRestoreRefusesNonEmptyTarget: restore writes only into a new or
// empty directory.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	db := mustOpen(t, t.TempDir(), backupOpts())
	appendAll(t, db, bulk(10, "2026-12-01T00:00:00Z", 1), 10, map[uint64]string{})
	target := filepath.Join(t.TempDir(), "backup")
	mustBackup(t, db, target)
	to := t.TempDir()
	if err := os.WriteFile(filepath.Join(to, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, target, to); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
}

// formatListing returns the entries of FORMAT.md's data directory listing.
func formatListing(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## The data directory")
	if !ok {
		t.Fatal("FORMAT.md has no data directory section")
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	var names []string
	for _, line := range strings.Split(block, "\n")[1:] { // the first line is <data>/
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	if len(names) < 5 {
		t.Fatalf("FORMAT.md's listing parsed as %v", names)
	}
	return names
}

// TestBackupCoversFormatListing: every entry FORMAT.md lists in the data
// directory has a row in backupEntries. A feature that adds a file adds
// its row (and to TestBackupHoldsEveryKind's store).
func TestBackupCoversFormatListing(t *testing.T) {
	for _, name := range formatListing(t) {
		if !slices.ContainsFunc(backupEntries, func(e struct {
			name string
			kind backupKind
		}) bool {
			return e.name == name
		}) {
			t.Errorf("FORMAT.md lists %s in the data directory; backupEntries does not say how a backup treats it", name)
		}
	}
}

// TestBackupHoldsEveryKind: a live store holding every kind of file
// FORMAT.md lists (a quarantined segment, a pending delete, destination
// files, a repaired original) is backed up with every one of its files
// but LOCK, byte for byte where the file is not pinned, and restored with
// the delete still in force.
func TestBackupHoldsEveryKind(t *testing.T) {
	dir := t.TempDir()
	opts := backupOpts()
	opts.MaintenanceInterval = -1 // no background purge changes the segments while the test lists them
	opts.Integrity = true         // integrity/ with its leaves/, keys and heads
	db := mustOpen(t, dir, opts)
	if err := db.RegisterProviderActions("p", "a"); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	for i := range 2 { // two segments: one is quarantined below
		appendAll(t, db, bulk(500, "2026-12-01T00:00:00Z", 10+i), 100, acked)
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	lost := m.Segments[0]                                        // one partition: it holds every seq of its range
	flipAt(t, filepath.Join(dir, segmentsDirName, lost.Name), 0) // the header's magic: quarantined at open
	db = mustOpen(t, dir, opts)
	if len(db.Stats().Quarantined) != 1 {
		t.Fatalf("quarantined: %v", db.Stats().Quarantined)
	}
	for _, f := range []string{"destinations/d.json", "destinations/d.state", "repaired/000000000001.seg", "superseded/000000000001.seg", readOnlyFile, auth.FileName} {
		writeFile(t, filepath.Join(dir, f), f)
	}
	writeFile(t, filepath.Join(dir, pseudonymsFile), `{"version": 1, "fields": ["user.name"], "key_check": ""}`)
	appendAll(t, db, bulk(500, "2026-12-02T00:00:00Z", 2), 100, acked) // stays in the WAL
	doomed := ev("p", "b", "2026-12-02T00:00:01Z")
	doomed.Message, doomed.ClientID = "doomed", "doomed-1" // its id goes to ERASED_IDS
	appendAll(t, db, []Event{doomed}, 1, acked)
	del, err := db.Delete(ctx, DeleteRequest{Filter: "event.action:b"})
	if err != nil || del.Deleted != 1 {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := db.CreateHold(ctx, HoldRequest{Name: "h", Filter: "event.action:a", Reason: "backup test"}); err != nil { // HOLDS
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "backup")
	res := mustBackup(t, db, target)
	kinds := map[string]bool{} // what the backup must hold one of
	for _, e := range backupEntries {
		if e.kind != backupSkip {
			kinds[e.name] = false
		}
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tmp") {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		top := strings.SplitAfter(rel, string(filepath.Separator))[0]
		if _, ok := kinds[filepath.ToSlash(top)]; ok {
			kinds[filepath.ToSlash(top)] = true
		}
		if top == lockFile || top == walDirName+"/" && !strings.HasSuffix(rel, seqReservedFile) {
			return nil // not copied; WAL files are compared by their events
		}
		if _, err := os.Stat(filepath.Join(target, rel)); err != nil {
			t.Errorf("%s of the live store is not in the backup: %v", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for kind, seen := range kinds {
		if !seen {
			t.Errorf("the test store holds no %s: add one, so the backup is shown to copy it", kind)
		}
	}
	for _, f := range []string{"destinations/d.json", "repaired/000000000001.seg", "superseded/000000000001.seg", readOnlyFile, registryFile, erasedFile, holdsFile} {
		if a, b := readFile(t, filepath.Join(dir, f)), readFile(t, filepath.Join(target, f)); a != b {
			t.Errorf("%s differs in the backup", f)
		}
	}
	want := upTo(acked, res.Seq)
	for seq := range want {
		if seq >= lost.MinSeq && seq <= lost.MaxSeq || want[seq] == "doomed" {
			delete(want, seq)
		}
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, target, restored); err != nil {
		t.Fatal(err)
	}
	if errs := Verify(restored); len(errs) != 2 || !strings.Contains(errs[0].Error(), readOnlyFile) || !strings.Contains(errs[1].Error(), "quarantined segment") {
		t.Fatalf("verify of the restored store: %v, want only its READONLY marker and quarantined segment named", errs)
	}
	got := partialContents(t, restored, lost.Name)
	if !strings.HasPrefix(got[del.Seq], "delete by query hid 1 events") {
		t.Errorf("the delete's own event in the restored store: %q", got[del.Seq])
	}
	delete(got, del.Seq)
	holdRecords := 0
	for seq, msg := range got {
		if strings.HasPrefix(msg, "incident hold h created") { // the hold's own event
			delete(got, seq)
			holdRecords++
		}
	}
	if holdRecords != 1 {
		t.Errorf("%d records of the hold in the restored store, want 1", holdRecords)
	}
	for seq, msg := range got {
		if want[seq] != msg {
			t.Errorf("restored seq %d %q, want %q", seq, msg, want[seq])
		}
	}
	if !maps2equal(got, want) {
		t.Fatalf("restored %d events, want %d (the quarantined segment's and the deleted event aside)", len(got), len(want))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBackupCopiesSegmentsDroppedMidCopy: a compaction that replaces the
// pinned segments after the pin renames them to *.deleting; the backup's
// references keep those files until its copy is done, and the copy reads
// them there.
func TestBackupCopiesSegmentsDroppedMidCopy(t *testing.T) {
	dir := t.TempDir()
	opts := backupOpts()
	opts.MaintenanceInterval = -1
	db := mustOpen(t, dir, opts)
	for round := range 4 {
		appendAll(t, db, bulk(300, "2026-12-01T00:00:00Z", round), 100, map[uint64]string{})
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := db.pinBackup()
	if err != nil {
		t.Fatal(err)
	}
	if cr, err := db.Compact(ctx); err != nil || cr.Inputs != len(snap.segments) {
		t.Fatalf("compact: %+v %v, want the %d pinned segments merged", cr, err, len(snap.segments))
	}
	deleting, _ := filepath.Glob(filepath.Join(dir, segmentsDirName, "*.deleting"))
	if len(deleting) != len(snap.segments) {
		t.Fatalf("while pinned: %v, want the %d inputs kept as *.deleting", deleting, len(snap.segments))
	}
	b := &backupRun{src: vfs.OS{}, srcDir: dir, dst: vfs.OS{}, dir: t.TempDir(), dec: db.zdec, stop: ctx.Err}
	_, err = b.copyPinned(snap)
	snap.release(db)
	if err != nil || b.res.SegmentsCopied != len(snap.manifest.Segments) {
		t.Fatalf("copy: %v, %d segments copied, want %d", err, b.res.SegmentsCopied, len(snap.manifest.Segments))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, segmentsDirName, "*.deleting")); len(left) != 0 {
		t.Fatalf("after the release: %v left", left)
	}
	for _, s := range snap.manifest.Segments {
		if errs := verifySegment(filepath.Join(b.dir, segmentsDirName, s.Name), s, db.zdec); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
}

// partialContents maps seq → message of every readable event of the store
// in dir, whose one damaged segment, quarantined, must be named as such
// until repair (reads then answer from the rest with allow_partial).
func partialContents(t *testing.T, dir, quarantined string) map[uint64]string {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	defer db.Close()
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{quarantined}) {
		t.Fatalf("quarantined: %v, want %s", q, quarantined)
	}
	out := map[uint64]string{}
	req := query.Request{AllowPartial: true, PerPage: query.MaxWindow}
	for {
		res, err := db.Query(ctx, req)
		if err != nil || !res.Partial {
			t.Fatalf("query with allow_partial: partial %v, %v", res != nil && res.Partial, err)
		}
		for _, h := range res.Hits {
			out[h.Seq] = h.Event.Message
		}
		if req.SearchAfter = res.Next; res.Next == "" {
			return out
		}
	}
}
