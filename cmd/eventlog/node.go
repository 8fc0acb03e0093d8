package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/server"
	"github.com/eventlogdb/eventlog/tiering"
	"github.com/eventlogdb/eventlog/web"
)

// nodeConfig makes serve a read-only query node over a writer's bucket
// (README: Query nodes): --data is then the node's cache directory.
type nodeConfig struct {
	url          string // --from-object-store s3://BUCKET/PREFIX
	readOnly     bool
	pollInterval time.Duration
	keysFile     string
	writerURL    string
	// cacheMaxBytes, when positive, reads segments through a cache of
	// that many bytes of whole segments (tiering.FollowConfig.CacheMaxBytes).
	cacheMaxBytes   int64
	blockCacheBytes int64
}

// defaultBlockCacheBytes is --cache-block-bytes' default.
const defaultBlockCacheBytes = 64 << 20

// nodeSettings are serve's settings of a query node; the bucket's
// endpoint, region and credentials are the --object-store-... ones.
func nodeSettings() []setting {
	n := func(f func(n *nodeConfig) *string) func(*serveConfig) *string {
		return func(c *serveConfig) *string { return f(&c.node) }
	}
	return []setting{
		{"from-object-store", "s3://BUCKET/PREFIX", "off", "serve, read-only, the store a writer publishes to this bucket prefix (with --read-only; --data is then the node's cache directory); README: Query nodes", optionalText(n(func(n *nodeConfig) *string { return &n.url }))},
		{"read-only", "BOOL", "false", "refuse every write (405 read_only); required with --from-object-store", boolean(func(c *serveConfig) *bool { return &c.node.readOnly })},
		{"object-store-poll-interval", "DURATION", "10s", "how often a query node asks the bucket for a newer manifest", duration(func(c *serveConfig) *time.Duration { return &c.node.pollInterval })},
		{"keys-file", "FILE", "off", "a query node's API keys, in the form of keys.json (read at start); off: the keys the writer publishes to the bucket (hashes only), followed at every poll", optionalText(n(func(n *nodeConfig) *string { return &n.keysFile }))},
		{"writer-url", "URL", "off", "where a query node's refusals tell clients to send writes", optionalText(n(func(n *nodeConfig) *string { return &n.writerURL }))},
		{"cache-max-bytes", "SIZE", "off", "a query node's or (with --object-store) a writer's local disk for whole published segments: the most recently opened (a node: newest first at start) stay within it, every other segment keeps only its pinned part (footer, indexes, postings: about 18 MiB per million events) on disk and its columns are read by ranged GETs; off: a node downloads every segment of the manifest served whole, a writer keeps every segment in its data directory; README: Local cache and ranged reads, The writer's cache", optionalSize(func(c *serveConfig) *int64 { return &c.node.cacheMaxBytes })},
		{"cache-block-bytes", "SIZE", "64MiB", "with --cache-max-bytes, the in-memory cache of the ranges ranged GETs fetched, charged to --memory-limit", size(func(c *serveConfig) *int64 { return &c.node.blockCacheBytes })},
	}
}

// check refuses node settings that do not go together.
func (n *nodeConfig) check(c *serveConfig) error {
	switch {
	case n.url != "" && !n.readOnly:
		return fmt.Errorf("--from-object-store serves a writer's bucket, which only that writer changes: add --read-only: %w", errUsage)
	case n.readOnly && n.url == "":
		return fmt.Errorf("--read-only serves a bucket a writer publishes to: give --from-object-store s3://BUCKET/PREFIX: %w", errUsage)
	case n.url != "" && c.objectStore.url != "":
		return fmt.Errorf("--object-store (publish as the writer) and --from-object-store (follow a writer) exclude each other: %w", errUsage)
	case n.url == "" && (n.keysFile != "" || n.writerURL != ""):
		return fmt.Errorf("--keys-file and --writer-url are settings of a query node (--from-object-store): %w", errUsage)
	case n.url == "" && c.objectStore.url == "" && n.cacheMaxBytes > 0:
		return fmt.Errorf("--cache-max-bytes caches the segments of an object store: give --object-store (a writer) or --from-object-store (a query node): %w", errUsage)
	case n.cacheMaxBytes == 0 && n.blockCacheBytes != defaultBlockCacheBytes:
		return fmt.Errorf("--cache-block-bytes sizes the block cache of --cache-max-bytes: give both: %w", errUsage)
	}
	return nil
}

// serveNode is serve for a query node: it follows the bucket into
// cfg.data, serves the follower's store read-only on ln until ctx is
// done, then closes it.
func serveNode(ctx context.Context, cfg *serveConfig, ln net.Listener, scheme string, stdout io.Writer, log *slog.Logger) error {
	o := cfg.objectStore
	o.url = cfg.node.url
	s, err := o.store()
	if err != nil {
		ln.Close()
		return err
	}
	keys, err := nodeKeys(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	metrics := server.NewMetrics()
	fcfg := tiering.FollowConfig{Store: s, Dir: cfg.data, PollInterval: cfg.node.pollInterval, Options: cfg.dbOptions(metrics, log), Logger: log,
		CacheMaxBytes: cfg.node.cacheMaxBytes, BlockCacheBytes: cfg.node.blockCacheBytes}
	if cfg.node.keysFile == "" {
		fcfg.Keys = keys
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	f, err := tiering.Follow(fctx, fcfg)
	cancel()
	if err != nil {
		ln.Close()
		return err
	}
	if err := requireKeys(keys, cfg, ln.Addr(), log); err != nil {
		ln.Close()
		return errors.Join(err, f.Close())
	}
	metrics.Register(f.Collector())
	if c := f.Cache(); c != nil {
		metrics.Register(c.Collector())
	}
	st := f.Status()
	fmt.Fprintf(stdout, "eventlog: serving %s read-only (manifest %d) from %s on %s://%s\n", s, st.Manifest, cfg.data, scheme, ln.Addr())
	log.Info("serving a query node", "store", s.String(), "manifest", st.Manifest, "cache", cfg.data, "cache_max_bytes", cfg.node.cacheMaxBytes, "addr", ln.Addr().String())
	scfg := cfg.server
	scfg.Keys = keys
	scfg.MutualTLS = cfg.tls.ClientCA != ""
	scfg.UI = web.Assets()
	scfg.Node = &server.NodeConfig{Store: s.String(), WriterURL: cfg.node.writerURL, Status: f.Status}
	err = server.New(f.DB(), scfg, metrics, log).Run(ctx, ln)
	if cerr := f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close %s: %w", cfg.data, cerr))
	}
	return err
}

// nodeKeys opens the node's key store in its directory: a copy of
// --keys-file when given (checked first: a file that does not parse is
// refused, naming it), else the keys the bucket holds, filled in by the
// follower.
func nodeKeys(cfg *serveConfig) (*auth.Store, error) {
	if err := os.MkdirAll(cfg.data, 0o755); err != nil {
		return nil, err
	}
	if cfg.node.keysFile != "" {
		data, err := os.ReadFile(cfg.node.keysFile)
		if err != nil {
			return nil, fmt.Errorf("--keys-file: %w", err)
		}
		keys, err := auth.Open(nil, cfg.data)
		if err != nil {
			return nil, err
		}
		if err := keys.Replace(data); err != nil {
			return nil, fmt.Errorf("--keys-file %s: %w", cfg.node.keysFile, err)
		}
		return keys, nil
	}
	if err := os.Remove(filepath.Join(cfg.data, auth.FileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err // a copy of an earlier --keys-file must not outlive it
	}
	return auth.Open(nil, cfg.data)
}
