package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofServer serves net/http/pprof on a listener of its own, so the
// profiles never share the API's address or routes. serve owns it: it
// starts it before the store opens and closes it after the store closes.
type pprofServer struct {
	addr net.Addr // where it listens
	srv  *http.Server
	done chan error
}

// startPprof listens on addr and serves /debug/pprof/ there until Close.
// It logs the address it listens on (port 0 picks one); stdout stays for
// the API's address alone, which scripts read as serve's first line.
func startPprof(addr string, log *slog.Logger) (*pprofServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &pprofServer{
		addr: ln.Addr(),
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	log.Info("serving profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() { p.done <- p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the profile server, cutting any profile in progress, and
// waits for it to end. A nil p is a no-op.
func (p *pprofServer) Close() error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = p.srv.Close()
	}
	if serr := <-p.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	return nil
}
