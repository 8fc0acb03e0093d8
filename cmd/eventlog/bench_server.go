//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// benchServerStopWait bounds how long the benchmark's server may take to
// seal and close after SIGTERM.
const benchServerStopWait = 5 * time.Minute

// benchServer is the eventlog serve process that bench http runs; it owns
// the goroutine that waits for the process.
type benchServer struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed once the process has ended
	err    error         // how it ended; read after exited
	stderr strings.Builder
}

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
	args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--sync", "always", "--log-level", "error"}, extra...)
	s := &benchServer{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		first <- sc.Text()
		for sc.Scan() { // drain, so the server never blocks on stdout
		}
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	line := <-first // "" when it exited first
	_, url, ok := strings.Cut(line, " on ")
	if !strings.HasPrefix(line, "eventlog: serving ") || !ok {
		s.cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("%s serve printed %q, not its address: %v\n%s", bin, line, s.err, s.stderr.String())
	}
	s.url = url
	return s, nil
}

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
