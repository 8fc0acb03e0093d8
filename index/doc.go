// Package index is the inverted index of eventlog: posting keys (Term) for
// the indexed fields and saved-object refs, shared by the in-memory head and
// the segment files so both answer the same equality conditions alike.
package index
