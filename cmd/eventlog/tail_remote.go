package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/query"
)

// followRemote tails the server's _tail through c, sending each event to
// out, until ctx is done. The client connects again after a drop, resuming
// after the last event; a refusal of the request itself (a bad filter) is
// an error.
func followRemote(ctx context.Context, c *client.Client, start tailStart, filter string, out chan<- query.Hit) error {
	for h, err := range c.Tail(ctx, client.TailRequest{From: start.seq, Now: start.now, Filter: filter}) {
		if err != nil {
			return err
		}
		select {
		case out <- h:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// sayReconnect returns the client's OnRetry for tail --url: each
// reconnection is said on stderr.
func sayReconnect(stderr io.Writer) func(error, time.Duration) {
	return func(err error, wait time.Duration) {
		fmt.Fprintf(stderr, "eventlog tail: %s; reconnecting in %v\n", cliMessage(err), wait.Round(time.Millisecond))
	}
}
