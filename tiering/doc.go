// Package tiering copies a store's sealed segments to object storage
// (package objstore) and publishes its manifest there, so that the bucket
// holds a complete, consistent copy of everything sealed: the writer's
// disk can be lost (Pull restores from the bucket) and, later, query nodes
// can read the bucket alone.
//
// The Uploader is an eventlog.ManifestObserver: the engine tells it of
// every manifest it commits (seals, compactions, retention, purges) and a
// goroutine of its own brings the bucket up to the latest one:
//
//  1. every segment the manifest names that is not in the bucket yet is
//     uploaded to segments/NAME (created with If-None-Match: *, its
//     SHA-256 computed while reading and stored as object metadata and in
//     the bucket manifest; the server checks each part's Content-MD5);
//  2. only then is the bucket manifest published, as the immutable object
//     manifest/NNNNNNNNNNNNNNNNNNNN (20 digits, one more than the last),
//     created with If-None-Match: *, and the pointer manifest/LATEST is
//     rewritten to name it. A published manifest therefore never names a
//     missing object, whatever fails or crashes in between;
//  3. objects a published manifest stopped naming are listed in it as
//     retired, with the time, and deleted once the delete grace has
//     passed since then: a reader still holding the previous manifest
//     finds its objects until then. Segments an interrupted run uploaded
//     and never published are found at the next Start by number (from
//     the published MANIFEST's next_id up to the store's) and retired too.
//
// Failures are retried with the project's backoff; meanwhile the local
// segments stay (the engine never removes a segment a live manifest
// names, except an offloaded one, which a published manifest names too:
// WriterCache) and the backlog is reported. A 412 on a manifest number means
// another writer published it: the prefix is no longer this writer's, and
// the uploader stops for good and calls Config.OnFenced (the server stops
// the store's writes). Readers find the latest manifest through the
// pointer and then by asking for the following numbers until one is
// missing, never by listing. FORMAT.md ("Object storage") describes the
// layout byte by byte.
//
// Each manifest carries, besides the MANIFEST (segments and the pending
// deletes' tombstones), everything else that shapes a read: registry.json,
// PSEUDONYMS, HOLDS, the retention policy and the writer's clock; a change
// of holds or policy alone publishes a new manifest. With Config.Keys the
// API keys' hashes (never a secret) are kept in keys.json.
//
// A Follower is the other side, a read-only query node: it polls for the
// manifest after the one it serves, downloads the segments a new one names
// into its directory (fetchSegment, checking size and SHA-256), installs
// the manifest and its files and swaps its store's view atomically
// (eventlog.DB.Reload), so it answers what the writer answers for sealed
// data; it takes the writer's keys from keys.json. A segment gone from the
// bucket makes it install the latest manifest instead. With
// FollowConfig.CacheMaxBytes (--cache-max-bytes) it downloads only the
// segments that fit in a Cache in DIR/cache and opens the rest over their
// pinned parts, the store taking each reader from the cache
// (eventlog.Options.OpenSegment, follow_cache.go); a query's ranged read
// that meets a 404 fails with ErrSegmentGone and makes it poll at once.
//
// By default the WAL is not uploaded: events not yet sealed into a
// segment are only on the writer's disk, and no query node sees them.
// With --sync-to-object-store a WALSync (Uploader.SyncWAL, the store's
// eventlog.WALShipper) gets every WAL record as it is written and uploads
// them as WAL chunks — wal/NNNNNNNNNNNNNNNNNNNN.chunk, each a whole WAL
// log file, numbered with no gaps, created with If-None-Match: * — one at
// a time, the records appended during an upload sharing the next chunk
// (group commit); an append is acknowledged once its chunk is in the
// bucket. Chunks a published manifest covers (sealed_seq) are retired:
// wal/FIRST moves past them, then they are deleted, after the delete
// grace. Pull replays the chunks past the manifest's sealed_seq.
// FORMAT.md ("WAL chunks") has the bytes. Query nodes do not read chunks.
//
// A Cache makes the local copies of the bucket's segments a cache, for the
// writer and for nodes that read only the bucket alike: the most recently
// opened segments stay whole in its directory within CacheConfig.MaxBytes,
// the pinned part of every segment (header, block index, postings,
// sequence index, footer: segment.PinnedPart) always, and an evicted
// segment opens as a segment.Reader over its pinned part whose column
// reads are ranged GETs (segment.BlockSource, rangeSource) through a
// bounded in-memory block cache charged to the memory budget. Cache.Do
// runs a read over a manifest's segments and, on a 404 (a superseded
// manifest whose objects were deleted after the grace), reads the latest
// manifest and runs it again. A reopener (reopen.go) keeps the store's
// open readers in step with the cache: an evicted segment is reopened
// over its pinned part (its file's disk is freed once running reads end)
// and a segment whose ranged reads made it hot is downloaded and
// reopened whole while open (eventlog.DB.ReopenSegments).
//
// A WriterCache (writer_cache.go, serve --object-store --cache-max-bytes)
// makes the writer's own segment files such a cache: a segment a
// published manifest names is taken into the Cache in DATA/cache and the
// engine reopens it through it, removing it from DATA/segments (it is
// offloaded); one not published is never evicted. Backup fetches
// offloaded files back (eventlog.Options.OpenSegmentFile).
package tiering
