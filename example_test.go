package eventlog_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// Example shows the embedded engine's life cycle: open, register, append,
// find, close.
func Example() {
	dir, err := os.MkdirTemp("", "eventlog-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := eventlog.Open(dir, eventlog.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.RegisterProviderActions("actions", "execute"); err != nil {
		log.Fatal(err)
	}

	ev, err := event.Decode([]byte(`{"@timestamp":"2024-05-01T14:02:11.125Z",
		"event":{"provider":"actions","action":"execute","outcome":"failure"},
		"kibana":{"saved_objects":[{"rel":"primary","type":"action","id":"slack-ops"}]}}`), event.DefaultLimits())
	if err != nil {
		log.Fatal(err)
	}
	res, err := db.Append(ctx, ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored", res.IDs())

	it, err := db.Find(ctx, eventlog.FindRequest{
		SavedObjects: &eventlog.RefFilter{Type: "action", IDs: []string{"slack-ops"}, PrimaryOnly: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	for it.Next() {
		r := it.Record()
		fmt.Println(r.ID, r.Event.Timestamp, r.Event.Event.Outcome)
	}
	// Output:
	// stored [0000000000000001]
	// 0000000000000001 2024-05-01T14:02:11.125Z failure
}
