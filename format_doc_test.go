package eventlog

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// TestFormatDocListsEveryField keeps FORMAT.md's field-ID table true: every
// field's wire ID and name must appear there as a table row.
func TestFormatDocListsEveryField(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range event.Fields() {
		row := fmt.Sprintf("| %d | `%s` |", f.ID, f.Name)
		if !strings.Contains(string(doc), row) {
			t.Errorf("FORMAT.md has no row %q: update its field-ID table", row)
		}
	}
}
