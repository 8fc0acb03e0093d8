package eventlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	goleak.VerifyTestMain(m)
}

var ctx = context.Background()

// mustOpen opens dir with opts, registering a cleanup that closes it.
func mustOpen(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ts(s string) event.Date {
	d, err := event.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ev(provider, action, when string) Event {
	var e Event
	e.Event.Provider, e.Event.Action = provider, action
	if when != "" {
		e.Timestamp = ts(when)
	}
	return e
}

// findAll pages through req and returns every record.
func findAll(t testing.TB, db *DB, req FindRequest) []Record {
	t.Helper()
	var out []Record
	for {
		it, err := db.Find(ctx, req)
		if err != nil {
			t.Fatalf("find: %v", err)
		}
		for it.Next() {
			out = append(out, *it.Record())
		}
		if err := it.Err(); err != nil {
			t.Fatalf("find: %v", err)
		}
		req.Cursor = it.Cursor()
		it.Close()
		if req.Cursor == "" {
			return out
		}
	}
}

func seqs(recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func TestRegistryStrictAndPersisted(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{})
	if err := db.RegisterProviderActions("actions", "execute", "execute-via-http"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		ev   Event
		want string
	}{
		"unknown action":   {ev("actions", "exec", ""), `provider "actions" has no action "exec" (registered actions: execute, execute-via-http)`},
		"unknown provider": {ev("alerting", "execute", ""), `provider "alerting" is not registered (registered providers: actions)`},
		"missing provider": {ev("", "execute", ""), "event.provider is missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := db.Append(ctx, ev("actions", "execute", ""), c.ev)
			if !errors.Is(err, ErrUnregistered) || !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "event 1:") {
				t.Fatalf("err = %v, want ErrUnregistered naming event 1 and %q", err, c.want)
			}
		})
	}
	if n := db.Stats().HeadEvents; n != 0 {
		t.Fatalf("a rejected batch stored %d events", n)
	}
	if !db.IsRegistered("actions", "execute") || db.IsRegistered("actions", "nope") {
		t.Fatal("IsRegistered is wrong")
	}
	db.Close()

	db = mustOpen(t, dir, Options{})
	if got := db.ProviderActions()["actions"]; strings.Join(got, ",") != "execute,execute-via-http" {
		t.Fatalf("after reopen registry = %v", got)
	}
	if _, err := db.Append(ctx, ev("actions", "execute-via-http", "")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if _, err := db.Append(ctx, ev("anything", "goes", "")); err != nil {
		t.Fatalf("AllowUnregistered: %v", err)
	}
}

func TestAppendRejectsInvalidWithoutStoring(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, Limits: event.Limits{MaxStringBytes: 10}})
	good := ev("p", "a", "")
	bad := ev("p", "a", "")
	bad.Message = strings.Repeat("x", 11)
	_, err := db.Append(ctx, good, bad, good, bad)
	var ie *InvalidEventsError
	if !errors.As(err, &ie) || len(ie.Items) != 2 || ie.Items[0].Index != 1 || ie.Items[1].Index != 3 {
		t.Fatalf("err = %v, want items 1 and 3", err)
	}
	if !strings.Contains(err.Error(), "message") {
		t.Fatalf("err %v does not name the field", err)
	}
	if n := db.Stats().HeadEvents; n != 0 {
		t.Fatalf("stored %d events of a rejected batch", n)
	}
}

func TestCloseOpenKeepsEveryEventAndSequence(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	var want []uint64
	for i := range 5 {
		res, err := db.Append(ctx, ev("p", "a", "2024-01-01T00:00:00Z"), ev("p", "b", ""))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && res.FirstSeq <= want[len(want)-1] {
			t.Fatalf("sequence went back: %d after %d", res.FirstSeq, want[len(want)-1])
		}
		want = append(want, res.Seq(0), res.Seq(1))
		if res.IDs()[1] != IDOf(res.Seq(1)) {
			t.Fatal("ids do not follow sequence numbers")
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := db.Append(ctx, ev("p", "a", "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	got := findAll(t, db, FindRequest{Limit: 3})
	if len(got) != len(want) {
		t.Fatalf("after reopen %d events, want %d", len(got), len(want))
	}
	res, err := db.Append(ctx, ev("p", "a", ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstSeq <= want[len(want)-1] {
		t.Fatalf("sequence %d reused after reopen (last was %d)", res.FirstSeq, want[len(want)-1])
	}
}

func TestLockRefusesSecondOpen(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	db.Close()
	db2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	db2.Close()
}

func TestReadOnlyWritesNothing(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	if _, err := db.Append(ctx, ev("p", "a", ""), ev("p", "a", "")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := listDir(t, dir)
	ro := mustOpen(t, dir, Options{ReadOnly: true})
	if n := len(findAll(t, ro, FindRequest{})); n != 2 {
		t.Fatalf("read-only sees %d events, want 2", n)
	}
	if _, err := ro.Append(ctx, ev("p", "a", "")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append read-only: %v", err)
	}
	if err := ro.RegisterProviderActions("x", "y"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("register read-only: %v", err)
	}
	ro.Close()
	if after := listDir(t, dir); after != before {
		t.Fatalf("read-only open changed the directory:\nbefore %s\nafter  %s", before, after)
	}
}

// listDir describes every file under dir with its size and mtime.
func listDir(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %s\n", path, info.Size(), info.ModTime())
		return nil
	})
	return b.String()
}

func TestFsyncFailurePoisons(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{AllowUnregistered: true, FS: faulty})
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
		t.Fatal(err)
	}
	faulty.Fail(vfs.OpSync, syscall.EIO)
	if _, err := db.Append(ctx, ev("p", "a", "")); err == nil {
		t.Fatal("append acknowledged although fsync failed")
	}
	faulty.Heal(vfs.OpSync)
	_, err := db.Append(ctx, ev("p", "a", ""))
	if err == nil || !strings.Contains(err.Error(), "poison") {
		t.Fatalf("append after a failed fsync: %v, want the poisoned WAL's error", err)
	}
	if n := len(findAll(t, db, FindRequest{})); n < 1 {
		t.Fatalf("reads stopped working: %d events", n)
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
}

func TestFullDiskRejectsWritesAndRecovers(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, FS: faulty})
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
		t.Fatal(err)
	}
	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	if _, err := db.Append(ctx, ev("p", "a", "")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", err)
	}
	if n := len(findAll(t, db, FindRequest{})); n != 1 {
		t.Fatalf("reads on a full disk: %d events, want 1", n)
	}
	faulty.Heal(vfs.OpWrite)
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
		t.Fatalf("append after space came back: %v", err)
	}
	if n := len(findAll(t, db, FindRequest{})); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{Sync: 7}); err == nil || !strings.Contains(err.Error(), "Sync") {
		t.Fatalf("bad Sync: %v", err)
	}
	if _, err := Open(t.TempDir(), Options{LoggerQueue: -1}); err == nil {
		t.Fatal("negative LoggerQueue accepted")
	}
}

func TestIDRoundTrip(t *testing.T) {
	for _, seq := range []uint64{1, 255, 1 << 40, ^uint64(0)} {
		got, err := SeqOfID(IDOf(seq))
		if err != nil || got != seq {
			t.Fatalf("SeqOfID(IDOf(%d)) = %d, %v", seq, got, err)
		}
	}
	for _, bad := range []string{"", "xyz", "000000000000000g", "00000000000000001"} {
		if _, err := SeqOfID(bad); err == nil {
			t.Fatalf("SeqOfID(%q) accepted", bad)
		}
	}
}

func TestObserveFsyncSeesEveryWALFsync(t *testing.T) {
	var observed atomic.Int64
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncAlways, ObserveFsync: func(d time.Duration) {
		if d < 0 {
			t.Errorf("negative fsync duration %v", d)
		}
		observed.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ev Event
	ev.Event.Provider, ev.Event.Action = "p", "a"
	for range 3 {
		if _, err := db.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := uint64(observed.Load()), db.Stats().WAL.Fsyncs; got != want || got < 3 {
		t.Fatalf("observed %d fsyncs, the WAL counted %d (3 appends under always)", got, want)
	}
}
