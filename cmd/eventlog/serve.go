package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/internal/tlsfiles"
	"github.com/eventlogdb/eventlog/server"
	"github.com/eventlogdb/eventlog/web"
)

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadServeConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // from now on a second signal ends the process at once
	}()
	cfg.hup = make(chan os.Signal, 1)
	signal.Notify(cfg.hup, syscall.SIGHUP)
	defer signal.Stop(cfg.hup)
	return serve(ctx, cfg, stdout, newLogger(cfg, stderr))
}

// newLogger returns the slog logger the configuration asks for, on w.
func newLogger(cfg *serveConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve opens the store and starts its destinations, prints the address
// it listens on to stdout, and serves until ctx is done: then it stops
// accepting, ends the _tail streams, finishes the requests in flight,
// stops the destinations and closes the store, which seals and syncs it.
// With --pprof-addr it also serves Go's profiles on that address.
func serve(ctx context.Context, cfg *serveConfig, stdout io.Writer, log *slog.Logger) (err error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.tls.Cert != "" {
		stopTLS, err := serveTLS(ctx, cfg, &ln, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopTLS()
		scheme = "https"
	}
	var prof *pprofServer
	if cfg.pprofAddr != "" {
		if prof, err = startPprof(cfg.pprofAddr, log); err != nil {
			ln.Close()
			return err
		}
	}
	defer func() { err = errors.Join(err, prof.Close()) }()
	if cfg.node.url != "" {
		return serveNode(ctx, cfg, ln, scheme, stdout, log) // a query node (node.go)
	}
	keys, err := openKeys(cfg, ln.Addr(), log)
	if err != nil {
		ln.Close()
		return err
	}
	metrics := server.NewMetrics()
	// Object storage (objectstore.go): claimed before the store opens, so
	// that the uploader sees every manifest it commits.
	var opened atomic.Pointer[eventlog.DB]
	up, err := openTiering(ctx, cfg, log, opened.Load, keys)
	if err != nil {
		ln.Close()
		return err
	}
	ws, err := openWALSync(ctx, cfg, up, opened.Load) // objectstore_walsync.go
	if err != nil {
		ln.Close()
		return err
	}
	opts := cfg.dbOptions(metrics, log)
	if up != nil {
		opts.ManifestObserver = up
	}
	if ws != nil {
		opts.WALShipper = ws
	}
	wc, err := openWriterCache(cfg, up, &opts) // objectstore.go
	if err != nil {
		ln.Close()
		return err
	}
	db, err := eventlog.Open(cfg.data, opts)
	if err != nil {
		ln.Close()
		return err
	}
	opened.Store(db)
	if wc != nil {
		wc.Start(db)
		defer wc.Close()
		metrics.Register(wc.Cache().Collector())
	}
	if up != nil {
		up.Start(db.ManifestCommit())
		defer closeTiering(up, log) // after the store's close, which seals
		metrics.Register(up.Collector())
		cfg.server.ObjectStore = up.Status
	}
	if ws != nil {
		ws.Start()
		defer closeWALSync(ws, log) // after the store's close, which answers every append
		metrics.Register(ws.Collector())
	}
	dests, err := openDestinations(db, cfg, log)
	if err != nil {
		ln.Close()
		return errors.Join(err, db.Close())
	}
	fmt.Fprintf(stdout, "eventlog: serving %s on %s://%s\n", cfg.data, scheme, ln.Addr())
	log.Info("serving", "data", cfg.data, "addr", ln.Addr().String(), "tls", scheme == "https", "sync", cfg.sync.String())
	scfg := cfg.server
	scfg.Destinations = dests
	scfg.Keys = keys
	scfg.MutualTLS = cfg.tls.ClientCA != ""
	scfg.UI = web.Assets() // the timeline page at / (issue 18)
	err = server.New(db, scfg, metrics, log).Run(ctx, ln)
	dests.Close() // before the store: its workers tail it
	if cerr := db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close %s: %w", cfg.data, cerr))
	}
	if err == nil {
		log.Info("stopped", "data", cfg.data)
	}
	return err
}

// openKeys opens the API keys of the data directory. Without keys it
// serves without authentication on a loopback address only; elsewhere it
// refuses, saying how to make the first key, unless --insecure-no-auth,
// which it warns about at every start.
func openKeys(cfg *serveConfig, addr net.Addr, log *slog.Logger) (*auth.Store, error) {
	keys, err := auth.Open(nil, cfg.data)
	if err != nil {
		return nil, err
	}
	return keys, requireKeys(keys, cfg, addr, log)
}

// requireKeys refuses to serve without keys on an address other than
// loopback, unless --insecure-no-auth.
func requireKeys(keys *auth.Store, cfg *serveConfig, addr net.Addr, log *slog.Logger) error {
	if keys.HasKeys() {
		log.Info("API keys required", "keys", len(keys.List()))
		return nil
	}
	tcp, _ := addr.(*net.TCPAddr)
	switch {
	case tcp != nil && tcp.IP.IsLoopback():
		log.Info("no API key in the data directory: serving without authentication, on loopback only", "addr", addr.String())
	case cfg.insecureNoAuth:
		log.Warn("INSECURE: no API key in the data directory and --insecure-no-auth: anyone who reaches this address may read, write and erase the store, and create keys",
			"addr", addr.String())
	default:
		return fmt.Errorf("no API key in %s, and %s is not a loopback address: anyone reaching it could read, write and erase the store. "+
			"Create the first key with the server stopped: eventlog keys create --data %s --name admin --role admin; "+
			"or serve on 127.0.0.1; or pass --insecure-no-auth to serve without authentication", cfg.data, addr, cfg.data)
	}
	return nil
}

// serveTLS loads the TLS files, wraps *ln to serve TLS from them, and
// starts the goroutine that reloads them on SIGHUP (cfg.hup) and when
// their contents change. The returned function stops it and waits.
func serveTLS(ctx context.Context, cfg *serveConfig, ln *net.Listener, log *slog.Logger) (stop func(), err error) {
	r, err := tlsfiles.New(cfg.tls, log)
	if err != nil {
		return nil, err
	}
	*ln = tls.NewListener(*ln, r.Config())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, cfg.tlsReloadInterval, cfg.hup) }()
	c := r.Certificate()
	log.Info("tls", "subject", c.Subject.String(), "not_after", c.NotAfter.UTC().Format(time.RFC3339), "mutual", cfg.tls.ClientCA != "")
	return func() { cancel(); <-done }, nil
}

// dbOptions are the store's options: the engine's settings, the logger,
// and the fsync observer of the server's metrics.
func (c *serveConfig) dbOptions(m *server.Metrics, log *slog.Logger) eventlog.Options {
	opts := eventlog.Options{
		Sync:              c.sync,
		SyncInterval:      c.syncInterval,
		SegmentMaxBytes:   c.segmentMaxBytes,
		SegmentMaxAge:     c.segmentMaxAge,
		SegmentIdle:       c.segmentIdle,
		MemoryLimit:       c.memoryLimit,
		AllowUnregistered: c.allowUnregistered,
		Pseudonymizer:     c.pseudonymizer,
		Logger:            log,
		ObserveFsync:      m.ObserveFsync,
		Integrity:         c.integrity,
		IntegrityInterval: c.integrityInterval,
	}
	opts.Limits.MaxDocumentBytes = int(min(c.server.MaxEventBytes, 1<<30))
	c.maintenance.apply(&opts)
	return opts
}
