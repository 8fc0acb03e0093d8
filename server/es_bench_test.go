package server

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/eventlogdb/eventlog"
)

// BenchmarkESBulk is BenchmarkBulk through /es/_bulk: the same realistic
// events, each after a create action line, so that the two routes compare
// on the same data (cpu-µs/event holds when the machine is shared).
//
//	go test ./server -run '^$' -bench 'Bulk/sync=none/batch=10000$' -benchtime 20x
func BenchmarkESBulk(b *testing.B) {
	const clients = 2
	lines := benchLines(80_000)
	action := []byte(`{"create":{"_index":"bench"}}`)
	es := make([][]byte, 0, 2*len(lines))
	for _, l := range lines {
		es = append(es, action, l)
	}
	for _, policy := range []eventlog.SyncPolicy{eventlog.SyncAlways, eventlog.SyncNone} {
		for _, batch := range []int{1000, 10_000} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", policy, batch), func(b *testing.B) {
				var bodies [][]byte
				for i := 0; i+2*batch <= len(es); i += 2 * batch {
					bodies = append(bodies, append(bytes.Join(es[i:i+2*batch], []byte("\n")), '\n'))
				}
				benchBulk(b, policy, "/es/_bulk", bodies, batch, clients)
			})
		}
	}
}
