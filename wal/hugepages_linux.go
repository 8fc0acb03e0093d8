package wal

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

// adviseHugePages asks the kernel to back the whole huge pages within b
// with huge pages (madvise MADV_HUGEPAGE), before anything touched them:
// one fault per 2 MiB instead of 512. Advice only: an error changes
// nothing but the speed, so it is ignored.
func adviseHugePages(b []byte) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + hugePage - 1) &^ (hugePage - 1)
	end := (start + uintptr(len(b))) &^ (hugePage - 1)
	if end <= first {
		return
	}
	_ = unix.Madvise(b[first-start:end-start], unix.MADV_HUGEPAGE)
}
