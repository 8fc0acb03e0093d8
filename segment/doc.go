// Package segment reads and writes eventlog segment files: immutable,
// columnar files of events sorted by (@timestamp, sequence), with a block
// index, a sequence index and postings. FORMAT.md, "Segment files" is the byte-level
// specification; the essentials:
//
//	file := header block* blockIndex pad postings seqIndex footer
//	header (8 bytes)   "ELSEG" u8(version) 0x00 0x00
//	block              the block's columns, stored (zstd or raw) back to back
//	blockIndex         per block: offset, length, CRC-32C, row range,
//	                   min/max @timestamp, min/max sequence, and per column
//	                   id, codec, stored/raw length, CRC-32C, value count and
//	                   (numeric columns) sum/min/max
//	pad                zero bytes so postings start 8-byte aligned
//	postings           index.Builder section: zstd term dictionary + 8-byte
//	                   aligned roaring bitmaps of row numbers
//	seqIndex           the rows' sequence order as runs of consecutive rows
//	footer (120 bytes) offset/length/CRC-32C of block index, postings and
//	                   sequence index; events, blocks, min/max @timestamp,
//	                   min/max sequence; u32 version; u32 CRC-32C of the
//	                   footer before it; "ELSEGEND"
//
// All fixed-width integers are little-endian; CRCs are CRC-32C
// (Castagnoli). Rows are numbered 0..n-1 in (@timestamp, sequence) order;
// blocks hold consecutive rows (DefaultBlockRows = 8,192 or DefaultBlockBytes
// of raw event bytes). Column 0 holds sequence numbers (first, then signed deltas),
// column 1 @timestamp (instant deltas plus format codes, so dates keep their
// exact text), and column k the event field with wire id k, coded by its
// event.Kind: strings as dictionary or length-prefixed vectors (UUIDs as 16
// bytes), dates as format codes plus deltas from the row's @timestamp in
// units of their precision, ints and durations as varints divided by their
// largest common power of ten, floats as 8 bytes. A column absent from
// every row of a block is not stored. Version 1 is the first released
// format; version 2 differs only in its postings (index.LayoutV2: refs
// keyed id first, and derived terms for each ref's rel and for the event's
// spaces); version 3 (written since) adds the engine fields _id and _index
// (columns 92 and 93) and their postings (index.LayoutV3: the _id terms are
// the exact client-id lookup of idempotent ingest), and column 94, the kept
// unknown fields (event.Extra), as a string vector of encoded trees, each
// checked with event.ParseExtra when read; version 4 (index.LayoutV4)
// moves the client ids out of the postings dictionary (decoded when a read
// first needs it and kept by a DictCache while reads use it), into pages
// read on demand behind a filter, so an open
// segment holds about two bytes an id in memory (Reader.MemoryBytes)
// rather than its ids; version 5 stores each ref of the refs column as the
// number of its key, whose id and type the postings dictionary already
// holds, with a key table at the end of the block index (refkeys.go), so a
// segment holds each saved-object id once; version 6 (index.LayoutV6)
// packs the postings dictionary: a ref key whose id is a UUID holds its
// 16 bytes, not its 36 hex characters; version 7 stores event.start
// relative to @timestamp less the row's event.duration (Kibana writes
// event.start as event.end less event.duration), where older versions
// store it relative to @timestamp like the other dates; version 8
// (index.LayoutV8) stores each posting list of more than InlineMax rows
// as a roaring bitmap, a delta list or a bitset, whichever is smallest;
// version 9 stores each whole value of another String or IP field of the
// row that a message repeats (its rule name, instance, user name, …) as a
// two-byte reference to that field, as version 4 on store the row's ref
// ids (message_refs.go, refids.go), and keeps LayoutV8's postings.
// Reader.Layout says which postings a file holds.
//
// Reads: a block is the unit of decompression, but Events decodes only the
// requested rows of each block it touches (every column is still read and
// CRC-checked), so a point read costs about one block's decompression:
// ~1 ms at the default 8,192 rows.
//
// Checks: Open verifies the header, footer and the CRCs of block index,
// postings and sequence index with ordinary reads before mapping the file
// read-only; each column's CRC is checked when it is read and Verify checks
// everything. Damage is a *CorruptionError (errors.Is ErrCorrupt) naming the
// file, section and block; a newer version is ErrUnsupportedVersion; I/O and
// mmap errors are returned plain. Readers refuse newer versions and read every
// older one (testdata holds a fixture per version).
//
// Lifetime: postings bitmaps are read in place from the mapping and never
// leave the Reader; everything the Reader returns is a copy. Close unmaps, so
// callers must not Close a Reader another goroutine is using (refcount it).
//
// File bytes are a pure function of the rows and block options: no clock,
// no randomness, maps written sorted.
package segment
