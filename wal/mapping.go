package wal

import (
	"fmt"
	"os"
	"runtime"

	"github.com/edsrzf/mmap-go"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Mapping is a read-only shared mapping of one log file, which replay with
// Options.MapPayloads hands out payloads from (Record.Owner): the records
// are read where the page cache holds them, with no read system call, no
// copy and no new anonymous memory.
//
// A Mapping is unmapped by a cleanup the garbage collector runs once the
// Mapping is unreachable, never before: whoever keeps a payload (or a
// string or slice pointing into it) past the replay callback keeps the
// Mapping reachable as long. The pages are the file's, so the kernel may
// drop them under pressure and read them back: memory that is reported as
// mapped, not counted as the process's own.
//
// A mapping is only safe while nobody truncates the file below what it
// hands out: the log's own writes only append, and truncate only past
// its last good record (a torn tail, a failed write), so MapPayloads is for
// a writable log, whose directory the caller holds alone.
type Mapping struct {
	data    mmap.MMap
	kept    bool // a record was handed out with it as owner
	cleanup runtime.Cleanup
}

// mapFile maps the first size bytes of f read-only, and asks the kernel to
// fill the page tables now (populateMapping): replay reads every byte once,
// and one call is far cheaper than a fault per page.
func mapFile(f vfs.File, path string, size int64) (*Mapping, error) {
	osf, ok := f.(*os.File)
	if !ok || size <= 0 || int64(int(size)) != size {
		return nil, nil
	}
	data, err := mmap.MapRegion(osf, int(size), mmap.RDONLY, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: map %s: %w", path, err)
	}
	populateMapping(data)
	m := &Mapping{data: data}
	m.cleanup = runtime.AddCleanup(m, func(d mmap.MMap) { _ = d.Unmap() }, data)
	return m, nil
}

// release unmaps m now when no record was handed out with it; otherwise
// the cleanup does once it is unreachable.
func (m *Mapping) release() {
	if m == nil || m.kept {
		return
	}
	m.cleanup.Stop()
	_ = m.data.Unmap()
}

// Len is the number of bytes mapped.
func (m *Mapping) Len() int { return len(m.data) }
