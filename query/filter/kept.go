package filter

import (
	"cmp"
	"math"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// Conditions on kept unknown fields (event.Extra) are evaluated on the
// stored values, which no index holds. Their values have a JSON type of
// their own per event, so a condition decides by the value's type:
//
//   - path:value holds when a string equals value, a number equals value
//     read as a number (42 matches 42 and 42.0), or a boolean is value
//     (true, false); null matches nothing;
//   - path:prefix* holds when a string starts with prefix;
//   - path:* holds when a value other than null is kept there;
//   - a range compares numbers numerically when the value is a number, and
//     strings bytewise otherwise (ISO dates compare in time order);
//
// and each holds when any value at the path does (arrays are flattened).

// keptLeaf compiles a leaf on a kept field.
func keptLeaf(n Node) (evalFn, *problem) {
	path := pathOf(n).Sub
	switch n := n.(type) {
	case *Match:
		return keptAny(path, keptEquals(n.Value)), nil
	case *Prefix:
		prefix := n.Prefix
		return keptAny(path, func(v event.ExtraValue) bool {
			return v.Kind == event.ExtraString && strings.HasPrefix(v.Text, prefix)
		}), nil
	case *Exists:
		return func(e *event.Event) bool { return e.Extra.Has(path) }, nil
	case *Range:
		holds, pr := opHolds(n.Op)
		if pr != nil {
			return nil, pr
		}
		return keptAny(path, keptCompare(n, holds)), nil
	}
	return nil, fieldProblem("unknown node type %T", n)
}

// keptAny lifts a test on one kept value to the event: any value at path.
func keptAny(path string, test func(event.ExtraValue) bool) evalFn {
	return func(e *event.Event) bool {
		found := false
		e.Extra.Lookup(path, func(v event.ExtraValue) bool {
			found = test(v)
			return !found
		})
		return found
	}
}

// keptEquals is the equality test of path:value.
func keptEquals(value string) func(event.ExtraValue) bool {
	n, intErr := strconv.ParseInt(value, 10, 64)
	f, floatErr := strconv.ParseFloat(value, 64)
	isNum := floatErr == nil && !math.IsInf(f, 0)
	return func(v event.ExtraValue) bool {
		switch v.Kind {
		case event.ExtraString:
			return v.Text == value
		case event.ExtraTrue:
			return value == "true"
		case event.ExtraFalse:
			return value == "false"
		case event.ExtraInt:
			if intErr == nil {
				return v.Int == n
			}
			return isNum && float64(v.Int) == f
		case event.ExtraNumber:
			x, ok := v.Float()
			return ok && isNum && x == f
		}
		return false
	}
}

// parseKeptRange reads a range value on a kept field: a finite number sets
// Float (and Int when it is an integer); anything else is compared as a
// string.
func parseKeptRange(r *Range) {
	if n, err := strconv.ParseInt(r.Value, 10, 64); err == nil {
		r.Int = n
	}
	if f, err := strconv.ParseFloat(r.Value, 64); err == nil && !math.IsInf(f, 0) {
		r.Float = f
	}
}

// keptNumeric reports whether a range value on a kept field is a number.
func keptNumeric(r *Range) bool {
	f, err := strconv.ParseFloat(r.Value, 64)
	return err == nil && !math.IsInf(f, 0)
}

// keptCompare is the test of a range on a kept field.
func keptCompare(r *Range, holds func(int) bool) func(event.ExtraValue) bool {
	if !keptNumeric(r) {
		want := r.Value
		return func(v event.ExtraValue) bool {
			return v.Kind == event.ExtraString && holds(cmp.Compare(v.Text, want))
		}
	}
	_, intErr := strconv.ParseInt(r.Value, 10, 64)
	wantInt, want := r.Int, r.Float
	return func(v event.ExtraValue) bool {
		if v.Kind == event.ExtraInt && intErr == nil {
			return holds(cmp.Compare(v.Int, wantInt))
		}
		x, ok := v.Float()
		return ok && !math.IsNaN(x) && holds(cmp.Compare(x, want))
	}
}
