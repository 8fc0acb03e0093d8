package segment

// MemoryBytes is what the Reader holds in memory besides the mapping: its
// postings' dictionary, and in a version 4 file the filter and page
// directory of its client ids (index.Postings.MemoryBytes), and for a
// reader over a pinned part (OpenSource) that pinned part, which is heap
// memory, not a mapping. A store charges it to its memory budget while
// the segment is open; the mapped file itself is page cache, which the
// budget does not count.
func (r *Reader) MemoryBytes() int64 {
	return r.post.MemoryBytes() + int64(len(r.pin)) + r.refKeys.memoryBytes()
}
