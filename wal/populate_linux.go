package wal

import "golang.org/x/sys/unix"

// populateMapping fills the page tables of a file mapping from the page
// cache (madvise MADV_POPULATE_READ, Linux 5.14), reading in what is not
// cached: one call instead of a fault per page. Advice only: on an older
// kernel the pages fault in as they are read.
func populateMapping(b []byte) { _ = unix.Madvise(b, unix.MADV_POPULATE_READ) }
