package wal

import (
	"golang.org/x/sys/unix"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// startWriteback asks the kernel to start writing the n bytes at off of
// f to the disk now (sync_file_range SYNC_FILE_RANGE_WRITE), without
// waiting for them and without making anything durable: the fsync that
// follows still makes the record durable, but finds its data on the way
// or written, so it waits less, and a goroutine waiting in fsync keeps
// its P (and with GOMAXPROCS 2 half the CPUs) from other goroutines for
// less time. Advice only: an error changes nothing.
func startWriteback(f vfs.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
