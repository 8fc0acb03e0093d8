package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// Store an event, then read every failure back through the cursors.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:9700", nil)
	if err != nil {
		log.Fatal(err)
	}
	var ev event.Event
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = "alerting", "execute", "failure"
	if _, err := c.Ingest(ctx, []event.Event{ev}); errors.Is(err, client.ErrOutcomeUnknown) {
		log.Fatal("look for the event before sending it again: ", err)
	} else if err != nil {
		log.Fatal(err)
	}
	for hit, err := range c.Query(ctx, query.Request{Filter: "event.outcome:failure"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(hit.Seq, hit.Event.Event.Action)
	}
}
