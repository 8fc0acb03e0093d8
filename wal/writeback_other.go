//go:build !linux

package wal

import "github.com/eventlogdb/eventlog/internal/vfs"

// startWriteback does nothing where sync_file_range is not available.
func startWriteback(vfs.File, int64, int64) {}
