// Package index is the inverted index of eventlog: posting keys (Term) for
// the indexed fields, saved-object refs (whole, keyed id first: RefKey) and
// the derived terms of a ref's rel and of an event's
// spaces, shared by the in-memory head and the segment files so both answer
// the same conditions alike. Layout names the key sets files of older
// formats hold (LayoutV1), so a query knows what it must check on rows, and
// where a file keeps its client ids: in the postings dictionary (up to
// LayoutV3), or from LayoutV4 in pages of the section read on demand behind
// a Bloom filter, so that an open segment holds about two bytes an id in
// memory (Section.MemoryBytes) rather than its ids (postings_ids_build.go
// has the layout). A reader opens a section without its dictionary
// (OpenSection, which answers client id lookups through IDPostings) and
// decodes the dictionary when it needs every other term (Section.Dict), so
// a store need not keep every open segment's dictionary on the heap.
package index
