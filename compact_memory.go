package eventlog

import (
	"context"
	"errors"
	"time"

	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// AccountCompaction holds, in the memory budget, the working set of the
// merge in progress (mergeMemory): the background compactor and Compact
// take it before a merge reads anything, waiting for room, and give it
// back when the merge ends.
const AccountCompaction = "compaction"

// mergeEventBytes is one event a merge input holds decoded: its
// event.Event (1,456 bytes) and the strings decoded into it.
const mergeEventBytes = 1456 + 1024

// mergeMemory estimates what merging inputs holds: each input's current
// block decoded (up to segment.DefaultBlockRows events), the new
// segment's postings and sequence numbers, which grow with its rows (the
// inputs' size on disk stands for them: the postings are about a third of
// a segment file, and held as bitmaps they take more than on disk), the
// staged block and buffers (sealStaging, as for a seal), and the merge's
// own zstd encoder (segment.CompactionEncoderBytes).
func mergeMemory(inputs []*liveSegment) int64 {
	n := int64(sealStaging + segment.CompactionEncoderBytes)
	for _, s := range inputs {
		n += int64(min(s.meta.Events, segment.DefaultBlockRows))*mergeEventBytes + s.meta.Bytes
	}
	return n
}

// acquireMerge takes a merge's working set of n bytes from the budget
// (takeMemory), waiting for room as long as it takes: until ctx is done,
// which Close brings about. Nothing the merge waits for waits on the
// merge: heads are sealed, queries and requests end and give their memory
// back on their own, and the merge holds no other account while it
// waits. It returns the function that gives the memory back.
func (db *DB) acquireMerge(ctx context.Context, n int64) (release func(), err error) {
	acct := db.mem.Account(AccountCompaction)
	for {
		release, err := db.takeMemory(ctx, acct, n, time.Minute)
		if !errors.Is(err, memory.ErrFull) {
			return release, err
		}
	}
}
