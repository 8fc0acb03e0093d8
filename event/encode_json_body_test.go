package event

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// TestAppendBodyJSON checks AppendBodyJSON against its definition:
// AppendJSON of a copy of the event with its engine fields emptied, for
// events with every kind of field (kept unknown fields too), and that it
// leaves the event as it was.
func TestAppendBodyJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		own := e
		own.ClientID, own.Index = "", ""
		want := AppendJSON(nil, &own)
		prefix := []byte(rapid.StringN(0, 8, -1).Draw(t, "prefix"))
		got := AppendBodyJSON(bytes.Clone(prefix), &e)
		if !bytes.Equal(got, append(prefix, want...)) {
			t.Fatalf("AppendBodyJSON = %s\nwant %s", got[len(prefix):], want)
		}
		if again := AppendJSON(nil, &e); (e.ClientID != "" || e.Index != "") && bytes.Equal(again, want) {
			t.Fatalf("AppendJSON of the event left out its engine fields: %s", again)
		}
	})
}
