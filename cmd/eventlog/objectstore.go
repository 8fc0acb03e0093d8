package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

// objectStoreConfig is where serve copies its segments (package tiering)
// and where eventlog object-store finds them.
type objectStoreConfig struct {
	url, endpoint, region string
	accessKey, secretKey  string
	sse, kmsKeyID         string
	pathStyle, insecure   bool
	unsafeSingleWriter    bool
	deleteGrace           time.Duration
	wal                   walSyncConfig // objectstore_walsync.go
}

// objectStoreSettings are serve's settings of the object store.
func objectStoreSettings() []setting {
	o := func(f func(o *objectStoreConfig) *string) func(*serveConfig) *string {
		return func(c *serveConfig) *string { return f(&c.objectStore) }
	}
	ob := func(f func(o *objectStoreConfig) *bool) func(*serveConfig) *bool {
		return func(c *serveConfig) *bool { return f(&c.objectStore) }
	}
	return append([]setting{
		{"object-store", "s3://BUCKET/PREFIX", "off", "upload every sealed and compacted segment to this bucket prefix and publish the manifest there after them (README: Object storage); the WAL stays local", optionalText(o(func(o *objectStoreConfig) *string { return &o.url }))},
		{"object-store-endpoint", "HOST:PORT|URL", "off", "S3-compatible server (MinIO, versitygw, Ceph); off: AWS S3", optionalText(o(func(o *objectStoreConfig) *string { return &o.endpoint }))},
		{"object-store-region", "REGION", "off", "the bucket's region; off: us-east-1 or what the server says", optionalText(o(func(o *objectStoreConfig) *string { return &o.region }))},
		{"object-store-path-style", "BOOL", "false", "address the bucket in the path (endpoint/bucket/key), as MinIO and versitygw want", boolean(ob(func(o *objectStoreConfig) *bool { return &o.pathStyle }))},
		{"object-store-insecure", "BOOL", "false", "plain HTTP to a HOST:PORT endpoint (an http:// URL says so too)", boolean(ob(func(o *objectStoreConfig) *bool { return &o.insecure }))},
		{"object-store-access-key", "KEY", "off", "access key; off: $AWS_ACCESS_KEY_ID, ~/.aws/credentials, then the instance role", optionalText(o(func(o *objectStoreConfig) *string { return &o.accessKey }))},
		{"object-store-secret-key", "SECRET", "off", "secret key of --object-store-access-key; prefer its environment variable to the command line", optionalText(o(func(o *objectStoreConfig) *string { return &o.secretKey }))},
		{"object-store-sse", "MODE", "off", "server-side encryption of uploaded objects: AES256 (SSE-S3) or aws:kms (SSE-KMS); off: the bucket's default", optionalText(o(func(o *objectStoreConfig) *string { return &o.sse }))},
		{"object-store-sse-kms-key-id", "ID", "off", "the KMS key of --object-store-sse aws:kms; off: the account's default key", optionalText(o(func(o *objectStoreConfig) *string { return &o.kmsKeyID }))},
		{"object-store-delete-grace", "DURATION", "1h", "how long objects a published manifest stopped naming (after compaction or retention) stay in the bucket, for readers still on the previous manifest", duration(func(c *serveConfig) *time.Duration { return &c.objectStore.deleteGrace })},
		{"unsafe-single-writer", "BOOL", "false", "write to an object store that does not honour If-None-Match: * (the start-up probe failed): nothing then stops a second writer on the prefix", boolean(ob(func(o *objectStoreConfig) *bool { return &o.unsafeSingleWriter }))},
	}, walSyncSettings()...)
}

// optionalText sets a string setting, off leaving it empty.
func optionalText(field func(*serveConfig) *string) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		if v == off {
			*field(c) = ""
			return nil
		}
		return text(field)(c, v)
	}
}

// store opens the S3 store the configuration names.
func (o *objectStoreConfig) store() (*objstore.S3, error) {
	cfg := objstore.S3Config{Endpoint: o.endpoint, Insecure: o.insecure, Region: o.region, PathStyle: o.pathStyle,
		AccessKey: o.accessKey, SecretKey: o.secretKey, SSE: o.sse, KMSKeyID: o.kmsKeyID}
	if err := cfg.ParseURL(o.url); err != nil {
		return nil, err
	}
	return objstore.NewS3(cfg)
}

// openTiering probes the bucket and claims its prefix for the data
// directory, returning the uploader to pass as the store's manifest
// observer (nil without --object-store). Once the store is open, db
// receives it: a fenced writer stops its writes. The keys' hashes are
// published for query nodes, again at every change.
func openTiering(ctx context.Context, cfg *serveConfig, log *slog.Logger, db func() *eventlog.DB, keys *auth.Store) (*tiering.Uploader, error) {
	if cfg.objectStore.url == "" {
		return nil, nil
	}
	s, err := cfg.objectStore.store()
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	up, err := tiering.New(pctx, tiering.Config{Store: s, Dir: cfg.data, DeleteGrace: cfg.objectStore.deleteGrace,
		UnsafeSingleWriter: cfg.objectStore.unsafeSingleWriter, Logger: log, Keys: keys,
		OnFenced: func(err error) {
			if d := db(); d != nil {
				_ = d.StopWrites(err)
			}
		}})
	if err != nil {
		return nil, err
	}
	keys.OnChange(up.KeysChanged)
	return up, nil
}

// openWriterCache opens the writer's segment cache with --cache-max-bytes
// (tiering.WriterCache) and sets the store options that read through it;
// nil without.
func openWriterCache(cfg *serveConfig, up *tiering.Uploader, opts *eventlog.Options) (*tiering.WriterCache, error) {
	if up == nil || cfg.node.cacheMaxBytes <= 0 {
		return nil, nil
	}
	wc, err := up.NewWriterCache(tiering.WriterCacheConfig{MaxBytes: cfg.node.cacheMaxBytes, BlockCacheBytes: cfg.node.blockCacheBytes})
	if err != nil {
		return nil, err
	}
	wc.Apply(opts)
	return wc, nil
}

// closeTiering gives the uploader a moment to publish what the store's
// close sealed, then stops it: what is left goes up at the next start.
func closeTiering(up *tiering.Uploader, log *slog.Logger) {
	if up == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := up.WaitPublished(ctx); err != nil {
		log.Warn("object store not up to date at shutdown; the local segments go up at the next start", "err", err)
	}
	up.Close()
}

// runObjectStore is eventlog object-store verify|pull DIR.
func runObjectStore(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlags("object-store", stderr) // --data is not read: pull names its directory
	var o objectStoreConfig
	fs.StringVar(&o.url, "object-store", "", "the bucket prefix: s3://BUCKET/PREFIX (required)")
	fs.StringVar(&o.endpoint, "object-store-endpoint", "", "S3-compatible server (HOST:PORT or URL); empty: AWS S3")
	fs.StringVar(&o.region, "object-store-region", "", "the bucket's region")
	fs.BoolVar(&o.pathStyle, "object-store-path-style", false, "address the bucket in the path, as MinIO and versitygw want")
	fs.BoolVar(&o.insecure, "object-store-insecure", false, "plain HTTP to a HOST:PORT endpoint")
	fs.StringVar(&o.accessKey, "object-store-access-key", "", "access key; empty: $AWS_ACCESS_KEY_ID, ~/.aws/credentials, the instance role")
	timeout := fs.Duration("timeout", 0, "stop after this long; 0: no limit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.secretKey = envOr("EVENTLOG_OBJECT_STORE_SECRET_KEY", "")
	if o.url == "" {
		return fmt.Errorf("--object-store s3://BUCKET/PREFIX is required: %w", errUsage)
	}
	s, err := o.store()
	if err != nil {
		return err
	}
	ctx, stop := maintenanceContext(*timeout)
	defer stop()
	switch {
	case fs.Arg(0) == "verify" && fs.NArg() == 1:
		return objectStoreVerify(ctx, s, stdout)
	case fs.Arg(0) == "pull" && fs.NArg() == 2:
		return objectStorePull(ctx, s, fs.Arg(1), stdout)
	}
	return fmt.Errorf("want object-store verify, or object-store pull DIR: %w", errUsage)
}

// objectStoreVerify reads every object of the latest published manifest.
func objectStoreVerify(ctx context.Context, s objstore.Store, stdout io.Writer) error {
	rep, err := tiering.Verify(ctx, s)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%s: %d of %d objects of manifest %d are missing or differ", s, len(rep.Problems), rep.Segments, rep.Manifest)
	}
	fmt.Fprintf(stdout, "%s: manifest %d: %d segments, %d bytes, all present with the published size and sha256\n", s, rep.Manifest, rep.Segments, rep.Bytes)
	return nil
}

// objectStorePull restores the bucket into dir and verifies the result.
func objectStorePull(ctx context.Context, s objstore.Store, dir string, stdout io.Writer) error {
	res, err := tiering.Pull(ctx, s, dir)
	if err != nil {
		return err
	}
	if problems := eventlog.Verify(dir); len(problems) > 0 {
		return fmt.Errorf("pulled %s into %s, but it does not verify: %w", s, dir, errors.Join(problems...))
	}
	fmt.Fprintf(stdout, "pulled manifest %d of %s into %s: %d segments, %d bytes, events up to seq %d; %d WAL chunks, events up to seq %d; it verifies clean\n",
		res.Manifest, s, dir, res.Segments, res.Bytes, res.SealedSeq, res.WALChunks, res.LastSeq)
	return nil
}
