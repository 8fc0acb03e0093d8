package segment

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// SealEncoder returns the encoder a store seals its heads with:
// NewEncoder's, at SpeedBetterCompression (zstd level 7 or so) instead of
// SpeedFastest. On the realistic generator the columns of a day take 12 %
// fewer bytes (34.99 -> 30.91 B/event) and the postings dictionary 3 %
// (8.66 -> 8.37), for about 0.75 µs more CPU an event (compressing a
// day's columns took 0.26 µs/event at SpeedFastest, 0.45 at SpeedDefault,
// 1.00 at this level, at load 9.6); eventlog bench http --events 2000000:
// segments 51.7 -> 47.2 B/event (README, "Seals at a higher zstd
// level"). Segments written by Write without an Encoder, and so the
// golden files, keep SpeedFastest.
//
// The encoder is the process's, made at the first call and never closed:
// its tables (about 7 MiB for each column compressed at once) cost more
// to allocate and clear than a small seal costs to compress, so a program
// that opens stores often (tests, tools) would pay for them at every Open.
// EncodeAll is safe for concurrent use; seals of several stores share its
// GOMAXPROCS encoders.
func SealEncoder() (*zstd.Encoder, error) { return sealEncoder() }

var sealEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(encoderWindow), zstd.WithEncoderConcurrency(0))
})

// CompactionEncoderBytes is about what SealEncoder's encoder holds once
// it has compressed a column: its match tables and history (7.1 MiB
// measured at SpeedBetterCompression with a 1 MiB window), charged to
// each merge's memory while it runs. Merges write with that encoder too
// (one column at a time each; merges of several stores take turns for
// its GOMAXPROCS encoders): on 733,331 realistic events of 11 split days
// (eventlog compact on the bench store) they took 7.7 s of CPU at
// SpeedFastest and 8.7 s at this level, and wrote 32.8 MiB instead of
// 35.9 (SpeedBestCompression: 32.4 MiB for 14.0 s). A reader needs
// nothing new: every zstd frame decodes alike.
const CompactionEncoderBytes = 8 << 20
