//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// benchServerStopWait bounds how long the benchmark's server may take to
// seal and close after SIGTERM.
const benchServerStopWait = 5 * time.Minute

// benchServerStartWait bounds how long the benchmark's server may take to
// open its data directory and print its address.
const benchServerStartWait = time.Minute

// benchServer is the eventlog serve process that bench http runs.
type benchServer struct{ *serveProcess }

// startBenchServer starts bin (this executable when "") serving dir on a
// free loopback port, durable (--sync always) unless extra says otherwise,
// and waits for the address it prints.
func startBenchServer(bin, dir string, extra []string) (*benchServer, error) {
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--data", dir, "--addr", "127.0.0.1:0", "--sync", "always", "--log-level", "error"}, extra...)
	p, err := startServeProcess(bin, args, benchServerStartWait)
	if err != nil {
		return nil, err
	}
	return &benchServer{p}, nil
}

// pid is the server's process id.
func (s *benchServer) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, waits for the server to seal and exit, and returns
// its peak RSS over its whole life (getrusage's maxrss).
func (s *benchServer) stop() (int64, error) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-s.exited:
	case <-time.After(benchServerStopWait):
		s.cmd.Process.Kill()
		<-s.exited
		return 0, fmt.Errorf("the server did not stop within %v of SIGTERM", benchServerStopWait)
	}
	if s.err != nil {
		return 0, errors.Join(fmt.Errorf("the server exited with %w", s.err), errors.New(s.stderr.String()))
	}
	ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, nil
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" { // bytes on Darwin, KiB elsewhere
		rss *= 1024
	}
	return rss, nil
}
