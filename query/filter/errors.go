package filter

import "fmt"

// Limits on the filter text. The text comes from an HTTP query parameter, so
// both bound the parser's work and stack whatever a client sends.
const (
	// MaxLength is the longest filter accepted, in bytes.
	MaxLength = 16 << 10
	// MaxDepth is the deepest nesting of parentheses, braces and 'not'
	// accepted.
	MaxDepth = 64
)

// maxTreeDepth bounds the syntax trees New accepts. A parsed tree is at most
// about 2*MaxDepth deep (a group can add an and or an or level); the bound
// only stops a cyclic or runaway hand-built tree.
const maxTreeDepth = 4 * MaxDepth

// Error is a syntax or field error in a filter. Pos is the 1-based character
// (not byte) position in the filter text: of the offending token, or one past
// the last character when the text ends too early.
type Error struct {
	Pos int
	Msg string
}

// Error returns "filter: at Pos: Msg".
func (e *Error) Error() string { return fmt.Sprintf("filter: at %d: %s", e.Pos, e.Msg) }

// errorf returns an *Error as an error, never a typed nil.
func errorf(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// problem is why a condition cannot be evaluated, found while compiling a
// leaf. onValue says whether the value is at fault (the parser reports it at
// the value) or the field (reported at the field).
type problem struct {
	msg     string
	onValue bool
}

func fieldProblem(format string, args ...any) *problem {
	return &problem{msg: fmt.Sprintf(format, args...)}
}

func valueProblem(format string, args ...any) *problem {
	return &problem{msg: fmt.Sprintf(format, args...), onValue: true}
}
