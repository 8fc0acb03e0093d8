package segment

// MemoryBytes is what the Reader holds in memory besides the mapping for
// as long as it is open: in a version 4 or later file the filter and page
// directory of its client ids (index.Section.MemoryBytes), in a version 5
// file its ref key table, and for a
// reader over a pinned part (OpenSource) that pinned part, which is heap
// memory, not a mapping. A store charges it to its memory budget while
// the segment is open; the mapped file itself is page cache, which the
// budget does not count. The postings dictionary is not in it: its
// DictCache charges it while it is kept.
func (r *Reader) MemoryBytes() int64 {
	return r.sect.MemoryBytes() + int64(len(r.pin)) + r.refKeys.memoryBytes()
}
