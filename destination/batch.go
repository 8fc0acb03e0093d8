package destination

import (
	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// batch is the events of one delivery, already encoded as documents.
type batch struct {
	seqs []uint64
	docs [][]byte
}

func (b *batch) add(seq uint64, ev *event.Event) {
	b.seqs = append(b.seqs, seq)
	b.docs = append(b.docs, eventlog.AppendDocument(nil, seq, ev))
}

func (b *batch) first() uint64  { return b.seqs[0] }
func (b *batch) last() uint64   { return b.seqs[len(b.seqs)-1] }
func (b *batch) span() seqRange { return seqRange{First: b.first(), Last: b.last()} }

// halves splits b in two for a receiver that found it too large.
func (b *batch) halves() (*batch, *batch) {
	m := len(b.seqs) / 2
	return &batch{seqs: b.seqs[:m], docs: b.docs[:m]}, &batch{seqs: b.seqs[m:], docs: b.docs[m:]}
}

// body encodes the batch as NDJSON or as one JSON array.
func (b *batch) body(format string) []byte {
	n := 2
	for _, d := range b.docs {
		n += len(d) + 1
	}
	out := make([]byte, 0, n)
	if format == "json" {
		out = append(out, '[')
		for i, d := range b.docs {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, d...)
		}
		return append(out, ']')
	}
	for _, d := range b.docs {
		out = append(append(out, d...), '\n')
	}
	return out
}
