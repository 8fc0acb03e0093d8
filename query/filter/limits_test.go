package filter

import (
	"strings"
	"testing"
	"time"
)

// TestLimitsLinear parses filters of the maximal length built to stress
// each part of the parser; each must take well under the time a quadratic
// algorithm would need (16 KiB squared is 2.7e8 steps).
func TestLimitsLinear(t *testing.T) {
	// fill repeats unit between head and tail up to MaxLength bytes.
	fill := func(head, unit, tail string) string {
		return head + strings.Repeat(unit, (MaxLength-len(head)-len(tail))/len(unit)) + tail
	}
	deep := strings.Repeat("(", MaxDepth)
	inputs := map[string]string{
		"words":          fill("message:", "ab ", "c"),
		"ors":            fill("", "tags:a or ", "tags:a"),
		"value list":     fill("tags:(", "a or ", "a)"),
		"escapes":        fill("tags:", `\*`, ""),
		"quoted":         fill(`tags:"`, `\"`, `"`),
		"unknown field":  fill("", "x", ":a"),
		"unicode":        fill("", "é ", ""),
		"nested groups":  fill(deep, "tags:a or ", "tags:a"+strings.Repeat(")", MaxDepth)),
		"unclosed quote": fill(`tags:a or "`, "a", ""),
		"many fields":    fill("", "tags:a and ", "x"),
		"phrase":         fill(`"`, "ab ", `"`),
	}
	for name, text := range inputs {
		if len(text) > MaxLength {
			t.Fatalf("%s: %d bytes", name, len(text))
		}
		start := time.Now()
		f, err := Parse(text)
		took := time.Since(start)
		if took > time.Second {
			t.Errorf("%s: Parse took %v", name, took)
		}
		if err == nil {
			ev := fullEvent(t)
			ev.Message = strings.Repeat("ab cd ", 10000)
			start = time.Now()
			f.Match(ev)
			if took := time.Since(start); took > time.Second {
				t.Errorf("%s: Match took %v", name, took)
			}
		}
		t.Logf("%s: %v (%v)", name, took, err)
	}
}
