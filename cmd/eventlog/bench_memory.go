package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog/bench"
)

// benchMemoryEvery is how often bench http samples its server's memory:
// often enough to catch a seal's or a query's peak, rare enough to cost
// the server nothing measurable.
const benchMemoryEvery = 100 * time.Millisecond

// memorySampler samples a process's resident memory from /proc/PID/status
// while the benchmark runs, keeping each phase's peaks. Its goroutine runs
// from startMemorySampler until finish.
type memorySampler struct {
	path  string
	every time.Duration
	mu    sync.Mutex
	// phases are the phases entered so far; the last is the current one.
	phases []bench.PhaseMemory
	stop   chan struct{}
	done   chan struct{}
}

func startMemorySampler(pid int, every time.Duration) *memorySampler {
	m := &memorySampler{path: fmt.Sprintf("/proc/%d/status", pid), every: every, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

// enter ends the current phase with a last sample and starts the next
// with a first: a phase shorter than the sampling interval still has its
// ends measured.
func (m *memorySampler) enter(phase string) {
	m.sample()
	m.mu.Lock()
	m.phases = append(m.phases, bench.PhaseMemory{Phase: phase, SampleEveryMS: m.every.Milliseconds()})
	m.mu.Unlock()
	m.sample()
}

func (m *memorySampler) sample() {
	anon, file, err := readRSSSplit(m.path)
	if err != nil {
		return // the process has exited, or there is no /proc: no sample
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.phases) == 0 {
		return
	}
	p := &m.phases[len(m.phases)-1]
	p.Samples++
	p.PeakAnonBytes = max(p.PeakAnonBytes, anon)
	p.PeakFileBytes = max(p.PeakFileBytes, file)
}

// finish takes a last sample, stops the sampling and returns the phases
// that have samples.
func (m *memorySampler) finish() []bench.PhaseMemory {
	m.sample()
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bench.PhaseMemory
	for _, p := range m.phases {
		if p.Samples > 0 {
			out = append(out, p)
		}
	}
	return out
}

// readRSSSplit returns the RssAnon and RssFile lines of a
// /proc/PID/status file, in bytes.
func readRSSSplit(path string) (anon, file int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "RssAnon":
			dst = &anon
		case "RssFile":
			dst = &file
		default:
			continue
		}
		kib, ok := bytes.CutSuffix(bytes.TrimSpace(val), []byte(" kB"))
		n, perr := strconv.ParseInt(string(kib), 10, 64)
		if !ok || perr != nil {
			return 0, 0, fmt.Errorf("%s: %s: %q is not a size in kB", path, key, val)
		}
		*dst = n << 10
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s: no RssAnon and RssFile lines", path)
	}
	return anon, file, nil
}
