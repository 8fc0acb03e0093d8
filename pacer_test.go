package eventlog

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// TestPacerAhead checks the sleeps the pacer asks for: the byte rate's
// lead, and busy*(1-duty)/duty once a work quantum is done.
func TestPacerAhead(t *testing.T) {
	f := func(name string, p *pacer, bytes float64, min, max time.Duration) {
		t.Helper()
		if got := p.ahead(bytes); got < min || got > max {
			t.Errorf("%s: ahead = %v, want %v..%v", name, got, min, max)
		}
	}
	now := time.Now()
	f("idle", &pacer{duty: 0.25, start: now, busySince: now}, 0, 0, time.Millisecond)
	f("under a quantum", &pacer{duty: 0.25, start: now, busySince: now.Add(-workQuantum / 2)}, 0, 0, 0)
	f("quarter share", &pacer{duty: 0.25, start: now, busySince: now.Add(-8 * time.Millisecond)}, 0, 24*time.Millisecond, 30*time.Millisecond)
	f("unlimited share", &pacer{duty: 1, start: now, busySince: now.Add(-time.Second)}, 0, 0, 0)
	f("byte rate", &pacer{rate: 1 << 20, start: now, busySince: now}, 1<<19, 450*time.Millisecond, 500*time.Millisecond)
}

// TestYielderStepsAside checks that yield gives the processor to a
// goroutine waiting for one, and leaves it when none waits.
func TestYielderStepsAside(t *testing.T) {
	var s [1]metrics.Sample
	if runnableGoroutines(&s); s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("the runtime does not count runnable goroutines (go.mod asks for Go 1.26): %v", s[0].Value.Kind())
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// Nothing of the test's waits for the processor; another test's
	// leftover timer might, hence the few tries.
	y := yielder{}
	for try := 0; y.yield() != 0; try++ {
		if try == 10 {
			t.Fatal("yield steps aside with nothing runnable")
		}
		y.last = time.Time{}
	}
	// On a loaded machine the process may get no CPU during one step
	// aside, so the goroutine must run during one of a few.
	for try := 0; ; try++ {
		ran := make(chan struct{}, 1)
		go func() { ran <- struct{}{} }() // runnable: the only processor is ours
		y.last = time.Time{}
		if aside := y.yield(); aside == 0 {
			t.Fatal("yield did not step aside for a runnable goroutine")
		}
		select {
		case <-ran:
		default:
			<-ran
			if try < 10 {
				continue
			}
			t.Fatal("in 10 tries, the runnable goroutine never ran while the yielder was aside")
		}
		break
	}
	if aside := y.yield(); aside != 0 {
		t.Fatalf("yield stepped aside again %v after the last time, before yieldEvery", aside)
	}
}
