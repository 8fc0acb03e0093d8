package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/tiering"
)

// walSyncConfig is serve --sync-to-object-store: WAL chunks in the bucket
// before an append is acknowledged (package tiering, WALSync).
type walSyncConfig struct {
	enabled    bool
	chunkBytes int64
	chunkAge   time.Duration
	ackTimeout time.Duration
	maxPending int64
}

// walSyncSettings are serve's settings of --sync-to-object-store.
func walSyncSettings() []setting {
	w := func(c *serveConfig) *walSyncConfig { return &c.objectStore.wal }
	return []setting{
		{"sync-to-object-store", "BOOL", "false", "acknowledge an append only once the WAL chunk holding it is in the --object-store bucket, so that losing this disk loses no acknowledged event (README: Object storage)", boolean(func(c *serveConfig) *bool { return &w(c).enabled })},
		{"sync-to-object-store-chunk-bytes", "SIZE", "4MiB", "cut a WAL chunk once the appends waiting for it reach this size (at most 256MiB)", size(func(c *serveConfig) *int64 { return &w(c).chunkBytes })},
		{"sync-to-object-store-chunk-age", "DURATION", "5ms", "cut a WAL chunk once its first append has waited this long (appends arriving during an upload share the next chunk)", duration(func(c *serveConfig) *time.Duration { return &w(c).chunkAge })},
		{"sync-to-object-store-timeout", "DURATION", "30s", "fail an append whose chunk is not in the bucket after this long (it stays in the local WAL; the upload is retried)", duration(func(c *serveConfig) *time.Duration { return &w(c).ackTimeout })},
		{"sync-to-object-store-max-pending", "SIZE", "64MiB", "refuse appends (nothing stored) while this much WAL waits for its upload: a failing bucket must not fill memory", size(func(c *serveConfig) *int64 { return &w(c).maxPending })},
	}
}

// openWALSync finds the prefix's WAL chunks and returns the WAL sync to
// pass as the store's WAL shipper (nil without --sync-to-object-store).
// Once the store is open, db receives it: a fenced writer stops its
// writes.
func openWALSync(ctx context.Context, cfg *serveConfig, up *tiering.Uploader, db func() *eventlog.DB) (*tiering.WALSync, error) {
	w := cfg.objectStore.wal
	if !w.enabled {
		return nil, nil
	}
	if up == nil {
		return nil, errors.New("--sync-to-object-store needs --object-store s3://BUCKET/PREFIX")
	}
	if w.chunkBytes > tiering.MaxWALChunkBytes {
		return nil, fmt.Errorf("--sync-to-object-store-chunk-bytes %d is over the limit of %d (256MiB)", w.chunkBytes, tiering.MaxWALChunkBytes)
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return up.SyncWAL(pctx, tiering.WALSyncConfig{ChunkMaxBytes: w.chunkBytes, ChunkMaxAge: w.chunkAge, AckTimeout: w.ackTimeout, MaxPendingBytes: w.maxPending,
		OnFenced: func(err error) {
			if d := db(); d != nil {
				_ = d.StopWrites(err)
			}
		}})
}

// closeWALSync stops the WAL sync after the store closed: every append
// was answered by then.
func closeWALSync(ws *tiering.WALSync, log *slog.Logger) {
	if ws == nil {
		return
	}
	ws.Close()
	log.Info("WAL sync stopped", "status", ws.Status())
}
