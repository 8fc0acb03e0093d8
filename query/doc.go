// Package query answers questions over a snapshot of the store: a KQL filter
// (package filter), an inclusive @timestamp range, a saved-object or space
// scope, a sort, a page, and aggregations (terms, date_histogram, stats).
//
// The executor reads the head and the segments through one interface,
// Source, which both implement. For each source it first turns the parts of
// the filter that the inverted indexes answer (equality, prefix and exists
// on indexed fields, saved-object refs) into a roaring bitmap of candidate
// rows, combining them with and/or/andnot. A condition on saved-object
// refs (nested or on one property) and Request.Space are answered from
// postings too: each whole-ref key names its ref's id, type, space and
// whether it is primary, so the planner decides the condition per key
// (plan_refs.go); a source of an older layout (index.LayoutV1) is narrowed
// as far as its keys allow and checked on rows. Time bounds prune whole
// blocks. Sources are planned on every CPU (each source's plan is its
// own): a source's first lookup decodes its postings dictionary, and a
// newest-N query with its total counts there the candidates of every
// source whose rows it will not need.
// What the bitmaps cannot answer (ranges, message words, unindexed fields)
// is evaluated on decoded columns — only the columns the filter, the sort
// and the aggregations read, and only for the rows the bitmaps leave. A
// count whose filter the bitmaps answer alone decodes nothing for blocks
// wholly inside the time range.
//
// Sorting by @timestamp (the default, ascending) follows the storage order:
// blocks are visited from the one that can hold the first row, and once the
// page is full, blocks that cannot improve it are only counted. Any other
// sort keeps a bounded top-k (page*per_page ≤ 10,000). The last tie-breaker
// is always the sequence number, in the direction of the first sort key, so
// descending order is the exact reverse of ascending. Missing values sort
// lowest: first ascending, last descending.
//
// Both time bounds are inclusive, as in the Kibana event log.
//
// A snapshot may list damaged ranges (Snapshot.Damaged): blocks of its
// sources that must not be read, or whole files it has no source for. A
// query whose time range and candidate rows reach one fails with a
// *CorruptionError; with Request.AllowPartial it answers without the range
// and lists it in Result.Warnings. Indexed lookups whose candidates miss a
// damaged block are unaffected.
package query
