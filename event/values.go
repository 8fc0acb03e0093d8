package event

import (
	"encoding/json"
	"strconv"
)

// StringList is an ECS keyword list. ECS lets a single string stand for a
// one-element list; Scalar remembers that it arrived that way so it is
// returned that way.
type StringList struct {
	Values []string
	Scalar bool
}

// Strings returns a list of the given values (encoded as a JSON array).
func Strings(values ...string) StringList { return StringList{Values: values} }

// IsZero reports whether the list is empty.
func (l StringList) IsZero() bool { return len(l.Values) == 0 }

// MarshalJSON writes a string when the list arrived as one, else an array.
func (l StringList) MarshalJSON() ([]byte, error) {
	if l.Scalar && len(l.Values) == 1 {
		return json.Marshal(l.Values[0])
	}
	return json.Marshal(l.Values)
}

// Duration is event.duration in nanoseconds. Quoted remembers that it arrived
// as a string of digits, as some producers send int64 values.
type Duration struct {
	Nanos  int64
	Quoted bool
}

// MarshalJSON writes the number, quoted when it arrived quoted.
func (d Duration) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	if d.Quoted {
		b = append(b, '"')
	}
	b = strconv.AppendInt(b, d.Nanos, 10)
	if d.Quoted {
		b = append(b, '"')
	}
	return b, nil
}

// Int returns a pointer to n, for the optional numeric fields.
func Int(n int64) *int64 { return &n }

// Float returns a pointer to f, for the optional numeric fields.
func Float(f float64) *float64 { return &f }
