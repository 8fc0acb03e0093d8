package eventlog

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/wal"
)

// replayQueue is how many WAL records may be on their way from the WAL's
// scan to the inserter: enough to keep every stage busy, few enough that
// replay's extra memory stays a few records (each at most wal.MaxPayload,
// typically one Append).
const replayQueue = 8

// replayer rebuilds the heads from the WAL during Open, in stages that run
// at once, so replay uses every core: the WAL's scan (the goroutine calling
// Open) reads and checks each record and hands it to record (a slice of
// the WAL's mapped file, wal.Options.MapPayloads); decoders check each
// record's events (event.IndexDecoder, which refuses what DecodeBinary
// would) and note their timestamps and frames, in any order; one inserter
// inserts the batches in sequence order, sealing heads that fill up. The
// events' posting keys are found and added after Open (head.Batch.Defer,
// indexReplayed): a restart does not need them before it serves. There
// is one decoder per core and one inserter (inserts must be in order),
// which the decoders spare every walk of the payload they can
// (batch.frames). The
// replayer owns its goroutines: finish stops them, and Open calls it
// whatever wal.Open returned.
type replayer struct {
	db       *DB
	queue    chan *replayJob // in sequence order, to the inserter
	decode   chan *replayJob // to the decoders
	free     chan *batch     // batches the inserter is done with, for reuse
	done     chan struct{}   // closed when the inserter has stopped
	decoders sync.WaitGroup
	err      error // the inserter's failure; read only after done is closed
}

// replayJob is one WAL record on its way through the stages.
type replayJob struct {
	first, count uint64
	b            *batch        // b.payload is the record's copy
	err          error         // the decoder's; read after decoded is closed
	decoded      chan struct{} // closed by the decoder
}

// startReplay starts the decoders and the inserter.
func (db *DB) startReplay() *replayer {
	r := &replayer{
		db:     db,
		queue:  make(chan *replayJob, replayQueue),
		decode: make(chan *replayJob, replayQueue),
		free:   make(chan *batch, replayQueue+2),
		done:   make(chan struct{}),
	}
	for range max(runtime.GOMAXPROCS(0), 1) {
		r.decoders.Add(1)
		go r.decodeJobs()
	}
	go r.insert()
	return r
}

// record is the WAL's replay callback: it queues a record for decoding and
// inserting, and returns the inserter's error once the inserter has
// failed. The WAL gives each record a payload of its own
// (wal.Options.KeepPayloads): a slice of the file's mapping, or a copy
// where files are not mapped, which the head adopts (head.Batch.Adopt),
// with the mapping that keeps it valid (head.Batch.Owner), rather than
// copying each event into its arena; a batch's other buffers are reused.
func (r *replayer) record(rec wal.Record) error {
	var b *batch
	select {
	case b = <-r.free:
	default:
		b = new(batch)
	}
	b.reset()
	b.rows.Adopt = true
	b.rows.Owner = rec.Owner // nil unless mapped; kept by the head
	b.rows.Defer = true      // indexReplayed adds the postings
	b.payload = rec.Payload
	job := &replayJob{first: rec.FirstSeq, count: uint64(rec.Count), b: b, decoded: make(chan struct{})}
	select {
	case r.queue <- job:
	case <-r.done:
		return r.err
	}
	// The decoders take every job until finish, so this waits at most for
	// one of them to finish its record.
	r.decode <- job
	return nil
}

// decodeJobs is a decoder goroutine.
func (r *replayer) decodeJobs() {
	defer r.decoders.Done()
	var dec event.IndexDecoder
	for job := range r.decode {
		job.err = decodeReplayed(&dec, job.b, job.first, uint32(job.count))
		close(job.decoded)
	}
}

// decodeReplayed fills b, holding a record's payload, with its events'
// @timestamps and their frames (batch.frames, which spare the inserter a
// walk), checking each event as fully as any decode does (dec decodes
// only what the posting keys need, which the head finds again later:
// head.Batch.Defer).
func decodeReplayed(dec *event.IndexDecoder, b *batch, first uint64, count uint32) error {
	var err error
	b.tomb, err = decodeBatchWith(dec.Decode, b.payload, first, count, func(_ int, ev *event.Event, data []byte) {
		b.rows.Add(ev.Timestamp.UnixNano(), nil) // the keys are found later (head.Batch.Defer)
		b.frames = append(b.frames, data)
	})
	if err != nil {
		return fmt.Errorf("record at seq %d: %w", first, err)
	}
	return nil
}

// insert is the inserter goroutine: it inserts decoded records in sequence
// order, sealing full heads as it goes (unless read-only) so replay's
// memory stays bounded by the head's limit. It stops at the first failure.
func (r *replayer) insert() {
	defer close(r.done)
	for job := range r.queue {
		<-job.decoded
		if job.err != nil {
			r.err = job.err
			return
		}
		if err := r.insertJob(job); err != nil {
			r.err = err
			return
		}
	}
}

// insertJob inserts one decoded record and seals the heads it filled.
func (r *replayer) insertJob(job *replayJob) error {
	db := r.db
	db.insertCommitted(job.first, job.b)
	job.b.release()     // keep no event's strings alive
	job.b.payload = nil // the head's now
	select {
	case r.free <- job.b:
	default:
	}
	if db.opts.ReadOnly || len(db.state.Load().frozen) == 0 {
		return nil
	}
	if err := db.sealFrozen(); err != nil {
		return fmt.Errorf("seal a replayed head: %w", err)
	}
	return nil
}

// finish waits for the stages to process everything queued, stops them and
// returns the first failure.
func (r *replayer) finish() error {
	close(r.queue)
	<-r.done
	close(r.decode)
	r.decoders.Wait()
	return r.err
}

// indexReplayed adds the postings replay deferred (head.Batch.Defer) to
// the heads it filled, in the background, a record at a time, once Open
// is done: every replayed event is in a head when Open returns, and a
// query that needs a head's postings before this goroutine has added
// them adds the rest itself first. Close stops it.
func (db *DB) indexReplayed() {
	st := db.state.Load()
	heads := append(slices.Clip(st.frozen), st.active)
	db.indexerDone = make(chan struct{})
	go func() {
		defer close(db.indexerDone)
		for _, h := range heads {
			for h.IndexPending() {
				select {
				case <-db.quit:
					return
				default:
				}
			}
		}
	}()
}
