package eventlog

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test re-runs the test binary as a child that appends until it is
// killed with SIGKILL; these variables configure the child.
const (
	crashChildEnv = "EVENTLOG_CRASH_CHILD_DIR"
	crashRunEnv   = "EVENTLOG_CRASH_RUN"
	crashSegEnv   = "EVENTLOG_CRASH_SEGMENT_BYTES"
	// crashCompactEnv makes the child compact all the time as well.
	crashCompactEnv = "EVENTLOG_CRASH_COMPACT"
	// crashDeleteEnv makes the child mark a third of its events and
	// delete the marked ones every few batches.
	crashDeleteEnv = "EVENTLOG_CRASH_DELETE"
)

// crashKills is how many times TestCrashKill9 kills its child: 20 by
// default, more with EVENTLOG_CRASH_KILLS=N.
func crashKills(t *testing.T) int {
	n := 20
	if s := os.Getenv("EVENTLOG_CRASH_KILLS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("EVENTLOG_CRASH_KILLS: %v", err)
		}
		n = v
	}
	return n
}

// crashChild appends batches forever with SyncAlways, printing each
// acknowledged batch as "ack FIRSTSEQ COUNT RUN FIRSTINDEX".
func crashChild() {
	dir, run := os.Getenv(crashChildEnv), os.Getenv(crashRunEnv)
	segBytes, _ := strconv.ParseInt(os.Getenv(crashSegEnv), 10, 64)
	db, err := Open(dir, Options{AllowUnregistered: true, Sync: SyncAlways, SegmentMaxBytes: segBytes, MaintenanceInterval: -1, CompactionBytesPerSecond: -1, CompactionCPUShare: 1, Integrity: true, IntegrityInterval: time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	if os.Getenv(crashCompactEnv) != "" {
		// Kills then land while a merged segment is written, after its
		// fsync, after the manifest swap and while inputs are deleted.
		go func() {
			for {
				res, err := db.Compact(ctx)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child compact:", err)
					os.Exit(5)
				}
				if res.Merges == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	deleting := os.Getenv(crashDeleteEnv) != ""
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for k, b := 0, 0; ; b++ {
		if deleting && b%5 == 4 {
			res, err := db.Delete(ctx, DeleteRequest{Filter: "labels.del:yes"})
			if err != nil {
				fmt.Fprintln(os.Stderr, "child delete:", err)
				os.Exit(6)
			}
			fmt.Fprintf(os.Stdout, "del %d\n", res.Seq)
		}
		batch := make([]Event, 1+r.IntN(40))
		for i := range batch {
			batch[i] = ev("p", "a", "")
			batch[i].Message = fmt.Sprintf("%s-%d", run, k+i)
			batch[i].Labels = map[string]string{"pad": strings.Repeat("x", r.IntN(2000))}
			if deleting && (k+i)%3 == 0 {
				batch[i].Labels["del"] = "yes"
			}
		}
		res, err := db.Append(ctx, batch...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "ack %d %d %s %d\n", res.FirstSeq, res.Count, run, k)
		k += len(batch)
	}
}

// TestCrashKill9 kills an appending child process at random moments and
// checks, after each kill, that every acknowledged event is in the reopened
// store exactly once, sequence numbers never go back, and verify finds
// nothing wrong. The "sealing" case rolls tiny heads constantly, so kills
// land while segments are written, between a segment's fsync and the
// manifest update, and between the manifest update and the WAL checkpoint.
// The "deleting" case also deletes by query and purges all the time: an
// acknowledged delete's events never come back, the others all stay.
func TestCrashKill9(t *testing.T) {
	for _, c := range []struct{ name, segBytes, compact, del string }{
		{"wal", "0", "", ""}, {"sealing", "16384", "", ""}, {"compacting", "16384", "1", ""}, {"deleting", "16384", "1", "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(crashSegEnv, c.segBytes)
			t.Setenv(crashCompactEnv, c.compact)
			t.Setenv(crashDeleteEnv, c.del)
			crashKill9(t)
		})
	}
}

func crashKill9(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	want := map[uint64]string{} // acknowledged seq → message
	// Marked events (deleting case) may fall to a delete whose
	// acknowledgement a kill cut off, so they are not wanted; once a delete
	// after them is acknowledged they must be gone.
	marked, gone := map[uint64]string{}, map[string]bool{}
	deleting := os.Getenv(crashDeleteEnv) != ""
	var lastSeq uint64
	for kill := range crashKills(t) {
		run := fmt.Sprintf("r%d", kill)
		acks := crashOnce(t, dir, run, r.IntN(30), time.Duration(r.IntN(3000))*time.Microsecond)
		for _, a := range acks {
			if a.first <= lastSeq {
				t.Fatalf("kill %d: sequence %d handed out again (already saw %d)", kill, a.first, lastSeq)
			}
			lastSeq = a.first + uint64(a.count) - 1
			if a.deleted {
				for seq, msg := range marked {
					if seq < a.first {
						delete(marked, seq)
						gone[msg] = true
					}
				}
				continue
			}
			for i := range a.count {
				msg := fmt.Sprintf("%s-%d", run, a.index+i)
				if deleting && (a.index+i)%3 == 0 {
					marked[a.first+uint64(i)] = msg
				} else {
					want[a.first+uint64(i)] = msg
				}
			}
		}
		checkIntegrityCut(t, powerCut{dir: dir, op: fmt.Sprintf("kill %d", kill), want: want})
		lastSeq = max(lastSeq, checkCrashStore(t, dir, want, gone, fmt.Sprintf("kill %d", kill)))
	}
	t.Logf("%d kills, %d acknowledged events all present once, %d deleted ones absent", crashKills(t), len(want), len(gone))
}

// ack is an acknowledged batch, or (deleted) an acknowledged delete
// whose record has sequence number first.
type ack struct {
	first   uint64
	count   int
	index   int
	deleted bool
}

// crashOnce starts a child, kills it after it acknowledged afterAcks
// batches and a further delay, and returns every ack it printed.
func crashOnce(t *testing.T, dir, run string, afterAcks int, delay time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRunEnv+"="+run)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acks []ack
	parse := func() {
		var a ack
		if _, err := fmt.Sscanf(sc.Text(), "del %d", &a.first); err == nil {
			a.count, a.deleted = 1, true
			acks = append(acks, a)
			return
		}
		var r string
		if _, err := fmt.Sscanf(sc.Text(), "ack %d %d %s %d", &a.first, &a.count, &r, &a.index); err != nil || r != run {
			t.Fatalf("child printed %q", sc.Text())
		}
		acks = append(acks, a)
	}
	for len(acks) < afterAcks && sc.Scan() {
		parse()
	}
	time.Sleep(delay)
	cmd.Process.Kill() // SIGKILL
	for sc.Scan() {    // acks printed before the kill still count
		parse()
	}
	cmd.Wait()
	return acks
}

// checkCrashStore reopens dir and checks it holds every acknowledged event
// once and none of the deleted ones. It returns the highest sequence number present.
func checkCrashStore(t *testing.T, dir string, want map[uint64]string, gone map[string]bool, after string) uint64 {
	t.Helper()
	db, err := Open(dir, Options{AllowUnregistered: true, MaintenanceInterval: -1, Integrity: true})
	if err != nil {
		t.Fatalf("after %s: reopen: %v", after, err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Fatalf("after %s: close: %v", after, err)
		}
		if problems := Verify(dir); problems != nil {
			t.Fatalf("after %s: verify: %v", after, errors.Join(problems...))
		}
	}()
	// Open removed whatever an interrupted seal or merge left: every file
	// is a live segment.
	if files, live := segmentFiles(t, db), db.Stats().Segments; len(files) != live {
		t.Fatalf("after %s: %d files in segments/ for %d live segments: %v", after, len(files), live, files)
	}
	seen := map[string]uint64{}
	var maxSeq uint64
	for _, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
		if prev, dup := seen[r.Event.Message]; dup {
			t.Fatalf("after %s: event %q stored twice (seq %d and %d)", after, r.Event.Message, prev, r.Seq)
		}
		if gone[r.Event.Message] {
			t.Fatalf("after %s: event %q (seq %d) is back after an acknowledged delete", after, r.Event.Message, r.Seq)
		}
		seen[r.Event.Message] = r.Seq
		maxSeq = max(maxSeq, r.Seq)
	}
	for seq, msg := range want {
		if got, ok := seen[msg]; !ok || got != seq {
			t.Fatalf("after %s: acknowledged event %q (seq %d) is missing after reopen (found at %d, %v)", after, msg, seq, got, ok)
		}
	}
	return maxSeq
}
