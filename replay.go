package eventlog

import (
	"fmt"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/wal"
)

// replayQueue is how many decoded WAL records may wait for the inserter:
// enough to keep the two stages busy, few enough that replay's extra memory
// stays a few records (each at most wal.MaxPayload, typically one Append).
const replayQueue = 4

// replayer rebuilds the heads from the WAL during Open on two goroutines,
// because decoding a record and inserting it into the head cost about the
// same: the WAL's scan (the goroutine calling Open) checks and decodes each
// record into a batch (record), and an inserter goroutine the replayer owns
// inserts batches in order, sealing heads that fill up. finish stops the
// inserter; Open calls it whatever wal.Open returned.
type replayer struct {
	db    *DB
	queue chan replayed
	free  chan *batch // batches the inserter is done with, for reuse
	done  chan struct{}
	err   error // the inserter's failure; read only after done is closed
}

// replayed is one decoded record on its way to the inserter.
type replayed struct {
	first uint64
	b     *batch
}

// startReplay starts the inserter.
func (db *DB) startReplay() *replayer {
	r := &replayer{
		db:    db,
		queue: make(chan replayed, replayQueue),
		free:  make(chan *batch, replayQueue+2),
		done:  make(chan struct{}),
	}
	go r.insert()
	return r
}

// record is the WAL's replay callback: it decodes one record (whose payload
// the WAL reuses after the call, so the batch keeps a copy) and queues it.
// It returns the inserter's error once the inserter has failed.
func (r *replayer) record(rec wal.Record) error {
	var b *batch
	select {
	case b = <-r.free:
	default:
		b = new(batch)
	}
	if err := decodeReplayed(b, rec); err != nil {
		return fmt.Errorf("record at seq %d: %w", rec.FirstSeq, err)
	}
	select {
	case r.queue <- replayed{first: rec.FirstSeq, b: b}:
		return nil
	case <-r.done:
		return r.err
	}
}

// decodeReplayed fills b with a copy of rec's payload and each event's
// @timestamp and posting keys, as Append's encodeBatch would have. The
// events are decoded without copying their strings: the posting keys share
// the payload copy, which stays unchanged until the batch is released after
// its insert (the head copies the keys it keeps).
func decodeReplayed(b *batch, rec wal.Record) error {
	b.reset()
	b.payload = append(b.payload, rec.Payload...)
	var err error
	b.tomb, err = decodeBatchWith(event.DecodeBinaryShared, b.payload, rec.FirstSeq, rec.Count, func(_ int, ev *event.Event, _ []byte) {
		b.addRow(ev)
	})
	return err
}

// insert is the inserter goroutine: it inserts batches in sequence order,
// sealing full heads as it goes (unless read-only) so replay's memory stays
// bounded by the head's limit. It stops at the first failure.
func (r *replayer) insert() {
	defer close(r.done)
	db := r.db
	for it := range r.queue {
		db.insertCommitted(it.first, it.b)
		it.b.release() // keep no event's strings alive
		select {
		case r.free <- it.b:
		default:
		}
		if db.opts.ReadOnly || len(db.state.Load().frozen) == 0 {
			continue
		}
		if err := db.sealFrozen(); err != nil {
			r.err = fmt.Errorf("seal a replayed head: %w", err)
			return
		}
	}
}

// finish waits for the inserter to insert everything queued and returns
// its error.
func (r *replayer) finish() error {
	close(r.queue)
	<-r.done
	return r.err
}
