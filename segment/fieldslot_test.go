package segment

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestFieldSlots checks every slot offset against the field's accessor.
func TestFieldSlots(t *testing.T) {
	var e event.Event
	for i := range slots {
		s := &slots[i]
		if got, want := s.ptr(&e), fieldAddr(&e, s.f); got != want {
			t.Errorf("field %s: slot address %p, accessor %p", s.f.Name, got, want)
		}
	}
	if len(slots) != len(event.Fields())-1 {
		t.Errorf("%d slots for %d fields", len(slots), len(event.Fields()))
	}
}

// TestRowInfo checks rowInfo against event.AppendBinary: the size is the
// binary form's, and the mask holds exactly the fields it writes.
func TestRowInfo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent(rapid.Float64Range(0, 1).Draw(t, "density")).Draw(t, "event")
		if rapid.Bool().Draw(t, "nonfinite") {
			e.Event.RiskScore = event.Float(math.Inf(1))
		}
		m, size := rowInfo(&e)
		bin := event.AppendBinary(nil, &e)
		if size != len(bin) {
			t.Fatalf("size %d, AppendBinary wrote %d", size, len(bin))
		}
		back, err := event.DecodeBinary(bin)
		if err != nil {
			t.Fatal(err)
		}
		for i := range slots {
			if ok, _ := slots[i].present(&back); ok != m.has(i) {
				t.Fatalf("field %s: in mask %v, in binary form %v", slots[i].f.Name, m.has(i), ok)
			}
		}
	})
}
