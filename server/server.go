package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/destination"
	"github.com/eventlogdb/eventlog/internal/bigbuf"
	"github.com/eventlogdb/eventlog/tiering"
)

// Config bounds what the server accepts and how long it waits. The zero
// value is the default for every field.
type Config struct {
	// MaxBulkBytes bounds the body of _bulk and of a JSON array posted to
	// /api/events. Zero: 32 MiB.
	MaxBulkBytes int64
	// KeepUnknownFields makes the native ingest routes keep fields outside
	// the event schema (event.DecodeOptions.KeepUnknown) when a request
	// does not say (?unknown_fields=keep|reject). Zero: refuse them, as
	// Kibana does.
	KeepUnknownFields bool
	// MaxEventBytes bounds a single-event body and each event of a batch
	// (its JSON line or array element), and the body of query requests.
	// Zero: 1 MiB.
	MaxEventBytes int64
	// MaxConcurrentWrites is how many ingest requests may read, decode and
	// append at once. Zero: 4.
	MaxConcurrentWrites int
	// WriteQueueTimeout is how long an ingest request waits for a write slot
	// before it is answered 429, and how long a request waits for room in
	// MaxBodyBytesInFlight. Zero: 1 s.
	WriteQueueTimeout time.Duration
	// MaxBodyBytesInFlight bounds the memory of the request bodies being
	// read or held at once, across all requests. A body is read whole
	// before its request takes a write slot; one that finds no room within
	// WriteQueueTimeout is answered 429 with Retry-After. Zero: 4 ×
	// MaxBulkBytes; a value under MaxBulkBytes (or MaxEventBytes) is raised
	// to it, so that the largest body fits.
	MaxBodyBytesInFlight int64
	// MinBodyRate is the slowest a request body may arrive, in bytes per
	// second averaged since its handler started, once BodyRateGrace has
	// passed: a slower body is cut off with 408 request_timeout, so slow
	// uploads cannot hold the body budget for ReadTimeout. Zero: 64 KiB/s;
	// negative: no floor (ReadTimeout alone bounds an upload).
	MinBodyRate int64
	// BodyRateGrace is how long a body may arrive at any rate before
	// MinBodyRate applies. Zero: 5 s.
	BodyRateGrace time.Duration
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are those of
	// http.Server. Zero: 10 s, 2 min, 2 min.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// RequestTimeout is the write deadline of ordinary (non-streaming)
	// routes, counted from the start of the handler and again once the
	// request body is read (ReadTimeout bounds the upload). Zero: 1 min.
	RequestTimeout time.Duration
	// FlushTimeout is the write deadline of each flush of a streaming route
	// (_export). Zero: 30 s.
	FlushTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight requests once
	// its context is done. Zero: 30 s.
	ShutdownTimeout time.Duration

	// HeartbeatInterval is how often an idle _tail stream gets a heartbeat
	// (an SSE comment, an empty NDJSON line). Zero: 15 s.
	HeartbeatInterval time.Duration
	// MaxTailLag is how many events a _tail stream holds for its client:
	// read from the store, not yet written. Zero: 10,000.
	MaxTailLag int
	// TailStallTimeout is how long a _tail's buffer may stay full, its
	// client taking nothing, before the stream ends with a slow-reader
	// error saying where to resume. Zero: 5 s.
	TailStallTimeout time.Duration
	// EnableDelete serves POST /api/events/_delete_by_query (DB.Delete),
	// which removes events for good, to admin keys. False (the default):
	// the route answers 403 disabled.
	EnableDelete bool
	// BackupDir, when set, serves POST /api/_backup, which writes backups
	// (DB.Backup) to directories under it, one per name. Empty: the route
	// answers 403 disabled.
	BackupDir string
	// MutualTLS says that the listener requires client certificates (the
	// server does not see its listener's TLS): GET /api/_privacy says so.
	MutualTLS bool
	// Destinations, when not nil, is served under /api/destinations and
	// its delivery metrics at /metrics; the caller opens and closes it.
	// Nil: those routes answer 404.
	Destinations *destination.Manager

	// ES configures the Elasticsearch-compatible ingest under /es: what a
	// document without provider or action gets, and what happens to an
	// unregistered pair. The zero value: the index name, "log",
	// registered on first sight.
	ES IngestRoute

	// GitLab configures the receiver of GitLab's streamed audit events,
	// POST /api/ingest/gitlab (gitlab.go). No tokens: disabled.
	GitLab GitLabConfig

	// Keys, when not nil, authenticates requests: once it holds a key,
	// every route but /healthz needs one, with the role and scope the
	// route's rule asks (routes.go). The server records in the store who
	// made and revoked keys, refused credentials and admin actions
	// (audit.go). Nil: no authentication and no audit events; the caller
	// decides whether that is safe (eventlog serve allows it on loopback
	// only).
	Keys *auth.Store
	// MetricsPublic serves /metrics without a key.
	MetricsPublic bool
	// RateLimits bound each key's requests and ingested bytes per second.
	// Zero: no limits.
	RateLimits auth.Limits
	// KeyCheckInterval is how often an open stream (_tail, _export) checks
	// that its key is still valid; it ends within that much of a
	// revocation or expiry. Zero: 1 s.
	KeyCheckInterval time.Duration
	// UI, when not nil, holds the timeline page served at / (package web's
	// Assets): index.html and its assets/ (ui.go). Nil: / answers 404.
	UI fs.FS

	// AuditFlushInterval is how often refused credentials, counted per key
	// id and source address, become audit events, and how often the keys'
	// last use is written. Zero: 1 min.
	AuditFlushInterval time.Duration

	// ObjectStore, when set, reports the object-store uploader (package
	// tiering) for /healthz: its backlog, and why it fails or stopped.
	// Nil: the store is not tiered.
	ObjectStore func() tiering.Status
	// Node, when set, makes the server a read-only query node over a
	// store that follows a writer's bucket (node.go). Nil: an ordinary
	// server.
	Node *NodeConfig
}

// withDefaults returns c with every zero (or negative) field set to its
// default.
func (c Config) withDefaults() Config {
	setInt64(&c.MaxBulkBytes, 32<<20)
	setInt64(&c.MaxEventBytes, 1<<20)
	if c.MaxConcurrentWrites <= 0 {
		c.MaxConcurrentWrites = 4
	}
	setDuration(&c.WriteQueueTimeout, time.Second)
	setInt64(&c.MaxBodyBytesInFlight, 4*c.MaxBulkBytes)
	c.MaxBodyBytesInFlight = max(c.MaxBodyBytesInFlight, c.MaxBulkBytes, c.MaxEventBytes)
	if c.MinBodyRate == 0 {
		c.MinBodyRate = 64 << 10
	}
	setDuration(&c.BodyRateGrace, 5*time.Second)
	setDuration(&c.ReadHeaderTimeout, 10*time.Second)
	setDuration(&c.ReadTimeout, 2*time.Minute)
	setDuration(&c.IdleTimeout, 2*time.Minute)
	setDuration(&c.RequestTimeout, time.Minute)
	setDuration(&c.FlushTimeout, 30*time.Second)
	setDuration(&c.ShutdownTimeout, 30*time.Second)
	setDuration(&c.HeartbeatInterval, 15*time.Second)
	if c.MaxTailLag <= 0 {
		c.MaxTailLag = 10_000
	}
	setDuration(&c.TailStallTimeout, 5*time.Second)
	setDuration(&c.KeyCheckInterval, time.Second)
	setDuration(&c.AuditFlushInterval, time.Minute)
	return c
}

func setInt64(v *int64, def int64) {
	if *v <= 0 {
		*v = def
	}
}

func setDuration(v *time.Duration, def time.Duration) {
	if *v <= 0 {
		*v = def
	}
}

// Server is the HTTP API over one DB. It is safe for concurrent use.
type Server struct {
	db      *eventlog.DB
	cfg     Config
	metrics *Metrics
	log     *slog.Logger
	handler http.Handler

	// writeSlots holds one token per ingest request appending now.
	writeSlots chan struct{}
	// bodies bounds the memory of request bodies in flight (upload.go).
	bodies *byteBudget
	// bigBodies keeps the buffers of large bodies for reuse (upload.go).
	bigBodies    *bigbuf.Pool
	shuttingDown atomic.Bool
	// streams ends the _tail streams at shutdown (tail_stream.go).
	streams streamControl

	// keys authenticates requests (nil: no authentication); rates limits
	// each key; failures counts refused credentials until they become
	// audit events (audit.go).
	keys     *auth.Store
	rates    *auth.Limiter
	failures failureLog
}

// New returns a server for db. A nil m gets NewMetrics(); a nil log
// discards. The server reads db's counters for m's gauges from now on.
func New(db *eventlog.DB, cfg Config, m *Metrics, log *slog.Logger) *Server {
	if m == nil {
		m = NewMetrics()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	s := &Server{
		db:         db,
		cfg:        cfg,
		metrics:    m,
		log:        log,
		writeSlots: make(chan struct{}, cfg.MaxConcurrentWrites),
		bodies:     newByteBudget(cfg.MaxBodyBytesInFlight, db.Memory().Account(AccountBodies)),
		bigBodies:  bigbuf.New(bigBodyBuffers, bigBodyMin, bigBodyMax),
		keys:       cfg.Keys,
		rates:      auth.NewLimiter(cfg.RateLimits, max(cfg.MaxBulkBytes, cfg.MaxEventBytes)),
	}
	m.db.Store(db)
	m.server.Store(s)
	m.stream.dests.Store(cfg.Destinations)
	s.handler = s.routes()
	return s
}

// Handler returns the server's routes (all of them, /metrics and /healthz
// included), for use in another http.Server or in tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln until ctx is done, then stops accepting, marks itself
// shutting down (/healthz answers 503), finishes in-flight requests within
// Config.ShutdownTimeout and returns nil, or the error that stopped serving.
// Requests still running when ShutdownTimeout expires have their connections
// closed, and Run returns an error saying so. Open _tail streams, which
// would never finish, are ended at once (EndStreams). Run closes ln but not the DB:
// the caller closes that after Run returns.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	auditCtx, stopAudit := context.WithCancel(context.Background())
	audited := make(chan struct{})
	go func() {
		defer close(audited)
		s.auditLoop(auditCtx)
	}()
	// The audit loop flushes once more when stopped, after the last
	// request: every refused credential is recorded.
	defer func() { stopAudit(); <-audited }()
	select {
	case err := <-served:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.shuttingDown.Store(true)
	s.EndStreams()
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		_ = srv.Close() // the timeout expired: cut the connections still open
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
