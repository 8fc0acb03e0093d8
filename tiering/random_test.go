package tiering_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
)

// flaky fails a share of the puts and deletes it is given, at random.
type flaky struct {
	objstore.Store
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
}

func (f *flaky) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

func (f *flaky) setRate(r float64) {
	f.mu.Lock()
	f.rate = r
	f.mu.Unlock()
}

func (f *flaky) Put(ctx context.Context, key string, r io.ReaderAt, size int64, o objstore.PutOptions) error {
	if !strings.HasPrefix(key, "probe/") && f.fail() { // a failed probe refuses the start, as it should
		return errors.New("injected put failure")
	}
	return f.Store.Put(ctx, key, r, size, o)
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if f.fail() {
		return errors.New("injected delete failure")
	}
	return f.Store.Delete(ctx, key)
}

// TestTieringRandomized runs random appends, seals, compactions,
// retention, restarts and store failures, checking after every step that
// the bucket's latest manifest names only objects that are there intact;
// at the end, with the failures stopped, the bucket restores exactly the
// store's events. EVENTLOG_TIERING_SEED replays a run.
func TestTieringRandomized(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("EVENTLOG_TIERING_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (EVENTLOG_TIERING_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	base := newDirStore(t)
	s := &flaky{Store: base, rng: rand.New(rand.NewPCG(seed, 2)), rate: 0.3}
	dir := t.TempDir()
	open := func() *writer {
		return openWriterOpts(t, dir, s, 30*time.Millisecond, eventlog.Options{RetentionMaxAge: 0})
	}
	w := open()
	ctx := context.Background()
	for step := range 40 {
		switch op := rng.IntN(10); {
		case op < 5:
			w.appendSealed(1 + rng.IntN(30))
		case op < 7:
			if _, err := w.db.Compact(ctx); err != nil {
				t.Fatalf("step %d: compact: %v", step, err)
			}
		case op < 8:
			if _, err := w.db.Delete(ctx, eventlog.DeleteRequest{Filter: "message:\"event " + strconv.Itoa(rng.IntN(w.seq+1)) + " of*\""}); err != nil {
				t.Logf("step %d: delete: %v", step, err)
			}
		case op < 9:
			seq := w.seq
			w.close()
			w = open()
			w.seq = seq
		default:
			time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond) // let the uploader work
		}
		if m, err := readLatestOrNil(base); err != nil {
			t.Fatalf("step %d: %v", step, err)
		} else if m != 0 {
			verifyClean(t, base)
		}
	}
	s.setRate(0)
	if err := w.db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	want, err := w.db.Count(ctx, eventlog.FindRequest{})
	if err != nil {
		t.Fatal(err)
	}
	checkBucket(t, base, want)
}
