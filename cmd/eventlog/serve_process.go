package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// serveProcess is an `eventlog serve` child process: the address it
// printed, and the goroutine (its owner) that drains its stdout and waits
// for it to end. bench http and the tests that run the built binary start
// it the same way.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer // its logs; read only once exited is closed
	exited chan struct{} // closed once the process has ended
	err    error         // how it ended; read after exited
}

// startServeProcess runs bin serve args and waits up to wait for the
// address serve prints as its first line; a process that prints anything
// else, or nothing in time, is killed and its logs returned in the error.
func startServeProcess(bin string, args []string, wait time.Duration) (*serveProcess, error) {
	p := &serveProcess{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), stderr: new(bytes.Buffer), exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		first <- sc.Text()
		for sc.Scan() { // drain, so the server never blocks on stdout
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case line := <-first: // "" when it exited first
		_, url, ok := strings.Cut(line, " on ")
		if !strings.HasPrefix(line, "eventlog: serving ") || !ok || strings.HasSuffix(url, ":0") {
			p.cmd.Process.Kill()
			return nil, fmt.Errorf("%s serve printed %q, not its address: %v; stderr:\n%s", bin, line, p.err, p.waitLogs())
		}
		p.url = url
		return p, nil
	case <-time.After(wait):
		p.cmd.Process.Kill()
		return nil, fmt.Errorf("%s serve printed no address in %v; stderr:\n%s", bin, wait, p.waitLogs())
	}
}

// waitLogs waits for the process to end and returns its stderr.
func (p *serveProcess) waitLogs() string {
	<-p.exited
	return p.stderr.String()
}
