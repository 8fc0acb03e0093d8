package segment

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

// MergeEncoder returns the encoder a store merges segments with (and
// rewrites them): NewEncoder's, at SpeedBetterCompression (zstd level 7
// or so) instead of SpeedFastest, for the postings dictionary and the
// columns that level shrinks (betterColumnNames; the others go to
// SealFastEncoder and SealEntropyEncoder). On the realistic generator the
// columns of a day take 12 % fewer bytes at this level than at
// SpeedFastest (34.99 -> 30.91 B/event) and the postings dictionary 3 %
// (8.66 -> 8.37), for about 0.75 µs more CPU an event (compressing a
// day's columns took 0.26 µs/event at SpeedFastest, 0.45 at SpeedDefault,
// 1.00 at this level, at load 9.6); eventlog bench http --events 2000000:
// segments 51.7 -> 47.2 B/event (README, "Seals at a higher zstd level").
//
// Seals no longer use it: as an LSM tree writes its first level cheaply
// and compacts at a higher level, a seal, which competes with ingest for
// the cores, writes those columns and its postings dictionary with
// SealEntropyEncoder, and merges rewrite them at this level. Its tables
// (about 7 MiB) left the caches cold for the rest of the seal too: bench
// BenchmarkSealServerHeads (load 1.6–2.6, alternated): 2,981–3,147 ->
// 2,672–2,852 cpu-ns/event, segments 39.34 -> 39.89 B/event until they
// are merged. Segments written by Write without an Encoder, and so the
// golden files, keep SpeedFastest.
//
// The encoder is the process's, made at the first call and never closed:
// its tables (about 7 MiB for each column compressed at once) cost more
// to allocate and clear than a small merge costs to compress, so a program
// that opens stores often (tests, tools) would pay for them at every Open.
// EncodeAll is safe for concurrent use; merges of several stores share its
// GOMAXPROCS encoders.
func MergeEncoder() (*zstd.Encoder, error) { return mergeEncoder() }

var mergeEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(encoderWindow), zstd.WithEncoderConcurrency(0))
})

// SealFastEncoder returns the encoder a store's seals and merges compress
// with the columns that no level makes smaller (FastColumn):
// NewEncoder's (SpeedFastest), the process's, made at the first call and
// never closed. Those columns are small (none over zstd's 128 KiB block,
// so the encoder holds no history, only its 256 KiB table for each column
// compressed at once) on the realistic generator.
func SealFastEncoder() (*zstd.Encoder, error) { return sealFastEncoder() }

var sealFastEncoder = sync.OnceValues(func() (*zstd.Encoder, error) { return NewEncoder(0) })

// SealEntropyEncoder returns the encoder a store's merges compress every
// column but FastColumn's and betterColumnNames' with (EntropyColumn), and
// its seals every column but FastColumn's and their postings dictionary:
// SpeedFastest that also entropy-codes the literals of a block in which
// it finds no matches (zstd.WithAllLitEntropyCompression, which
// SpeedFastest leaves off), the process's, made at the first call and
// never closed; like SealFastEncoder's, its tables take 256 KiB for each
// column compressed at once. Varints of small deltas (@timestamp,
// event.duration) and short codes repeat no sequence zstd's fastest
// matcher finds, but their bytes are skewed: SpeedFastest stored them
// raw, this encoder takes as few bytes as SpeedBetterCompression
// (200,000 realistic events, 8,192-row blocks: @timestamp 1.993 → 1.666
// B/event, event.duration 1.467 → 1.324, event.action 1.038 → 0.543, the
// same or fewer than at SpeedBetterCompression) for about half its CPU.
func SealEntropyEncoder() (*zstd.Encoder, error) { return sealEntropyEncoder() }

var sealEntropyEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(encoderWindow), zstd.WithEncoderConcurrency(0))
})

// fastColumnNames are the fields whose columns WriteOptions.FastEncoder
// compresses: the ones SpeedBetterCompression does not shrink by more
// than 0.005 B/event against SpeedFastest on the realistic generator
// (200,000 events, 8,192-row blocks; B/event at SpeedFastest → at
// SpeedBetterCompression, where the choice moves more than 0.002):
// kibana.saved_objects 3.656 → 3.664, kibana.space_ids 0.499 → 0.521,
// event.provider 0.372 → 0.388, kibana.server_uuid 0.333 → 0.341,
// event.end 0.133 → 0.129, rule.id 0.133 → 0.129, tags 0.064 → 0.061,
// the metrics counts 0.072 → 0.076 each. Together the columns take
// 0.06 B/event fewer at SpeedFastest (41.22 → 41.16 B/event for the
// segment), and compressing a block's columns took 0.70–0.78 s of CPU
// for 800,000 events instead of 0.88–1.14 s (pprof, alternated, load
// 7–8): random ids (kibana.alert.rule.execution.uuid is 16 bytes of
// UUID a row, which zstd stores raw at any level) and few repeats give
// the higher level's longer matches nothing to find.
var fastColumnNames = []string{
	"tags", "event.category", "event.end", "event.provider", "event.reason",
	"event.start", "event.type", "rule.id", "kibana.server_uuid",
	"kibana.space_ids", "kibana.task.id", "kibana.alert.rule.execution.uuid",
	"kibana.alert.rule.execution.metrics.number_of_triggered_actions",
	"kibana.alert.rule.execution.metrics.number_of_scheduled_actions",
	"kibana.alert.rule.execution.metrics.number_of_new_alerts",
	"kibana.alert.rule.execution.metrics.number_of_active_alerts",
	"kibana.alert.rule.execution.metrics.number_of_recovered_alerts",
	"kibana.alert.rule.execution.metrics.total_indexing_duration_ms",
	"kibana.alert.rule.execution.metrics.execution_gap_duration_s",
	"kibana.saved_objects",
}

// fastColumns[id] is whether column id is one of fastColumnNames'.
var fastColumns = func() (set [256]bool) {
	for _, name := range fastColumnNames {
		f := event.FieldByName(name)
		if f == nil {
			panic(fmt.Sprintf("segment: fast column %q is no field", name))
		}
		set[f.ID] = true
	}
	return set
}()

// FastColumn reports whether WriteOptions.FastEncoder, when set,
// compresses column id (a field's event.Field.ID).
func FastColumn(id uint8) bool { return fastColumns[id] }

// betterColumnNames are the fields whose columns Encoder (MergeEncoder's
// SpeedBetterCompression) compresses even when WriteOptions.EntropyEncoder
// is set: the ones it shrinks by 0.005 B/event or more against
// SealEntropyEncoder on the realistic generator (200,000 events,
// 8,192-row blocks; B/event with SealEntropyEncoder → MergeEncoder):
// message 2.580 → 2.369, rule.name 1.551 → 1.368,
// kibana.alerting.instance_id 0.418 → 0.386, user.name 0.370 → 0.339,
// source.ip 0.360 → 0.339, error.message 0.305 → 0.290, event.kind
// 0.279 → 0.265, event.outcome 0.160 → 0.147, log.level 0.159 → 0.146,
// the number of searches 0.175 → 0.165, kibana.alerting.status 0.166 →
// 0.161; the sequence column (betterColumns' colSeq) 0.068 → 0.061. The
// columns of a segment then take 25.61 B/event (all at MergeEncoder but
// FastColumn's: 25.64) and compressing them 181 ns/event instead of 205
// on that test's warm caches; in a seal (bench
// BenchmarkSealServerHeads, pprof, load 2.4–3.1), 0.32–0.38 s for 800,000
// events instead of 0.45–0.53 s.
var betterColumnNames = []string{
	"message", "rule.name", "kibana.alerting.instance_id", "user.name",
	"source.ip", "error.message", "event.kind", "event.outcome", "log.level",
	"kibana.alert.rule.execution.metrics.number_of_searches",
	"kibana.alerting.status",
}

// betterColumns[id] is whether column id is the sequence column or one of
// betterColumnNames'.
var betterColumns = func() (set [256]bool) {
	set[colSeq] = true
	for _, name := range betterColumnNames {
		f := event.FieldByName(name)
		if f == nil || fastColumns[f.ID] {
			panic(fmt.Sprintf("segment: better column %q is no field, or a fast one", name))
		}
		set[f.ID] = true
	}
	return set
}()

// EntropyColumn reports whether WriteOptions.EntropyEncoder, when set,
// compresses column id (colSeq, colTS or a field's event.Field.ID):
// every column but FastColumn's and the few MergeEncoder's level shrinks
// (betterColumnNames).
func EntropyColumn(id uint8) bool { return !fastColumns[id] && !betterColumns[id] }

// CompactionEncoderBytes is about what the encoders a merge writes with
// hold once they have compressed a column, charged to each merge's memory
// while it runs: MergeEncoder's match tables and history (7.1 MiB measured
// at SpeedBetterCompression with a 1 MiB window), and SealFastEncoder's
// and SealEntropyEncoder's tables (256 KiB each for each of the
// GOMAXPROCS columns compressed at once, 1 MiB together on 2 cores),
// rounded up. Merges write with those encoders too
// (one column at a time each; merges of several stores take turns for
// its GOMAXPROCS encoders): on 733,331 realistic events of 11 split days
// (eventlog compact on the bench store) they took 7.7 s of CPU at
// SpeedFastest and 8.7 s at this level, and wrote 32.8 MiB instead of
// 35.9 (SpeedBestCompression: 32.4 MiB for 14.0 s). A reader needs
// nothing new: every zstd frame decodes alike.
const CompactionEncoderBytes = 9 << 20
