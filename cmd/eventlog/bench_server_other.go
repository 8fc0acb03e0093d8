//go:build !unix

package main

import "errors"

// benchServer is not available off unix: bench http measures the server
// process with getrusage and stops it with SIGTERM.
type benchServer struct{ url string }

func startBenchServer(string, string, []string) (*benchServer, error) {
	return nil, errors.New("eventlog bench http needs a unix system")
}

func (*benchServer) pid() int { return 0 }

func (*benchServer) stop() (int64, error) { return 0, nil }
