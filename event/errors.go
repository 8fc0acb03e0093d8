package event

import (
	"errors"
	"fmt"
)

// Sentinel errors, checkable with errors.Is on the *FieldError that Decode,
// Validate and DecodeBinary return.
var (
	// ErrUnknownField: a key that is not a field of the event schema (or
	// of a saved-object ref).
	ErrUnknownField = errors.New("unknown field")
	// ErrWrongType: a value of the wrong JSON type, or one that does not
	// parse as the field's type (integer, date, IP address, finite number).
	ErrWrongType = errors.New("wrong type")
	// ErrLimit: a document, string or list over the Limits.
	ErrLimit = errors.New("over limit")
	// ErrSyntax: malformed JSON (including a key repeated in one object,
	// invalid UTF-8 and trailing data), or a malformed binary form.
	ErrSyntax = errors.New("syntax error")
)

// FieldError names the field (dotted path, arrays as
// kibana.saved_objects[2].id) and the problem. Path is empty for errors that
// belong to no field (JSON syntax, document size).
type FieldError struct {
	Path string
	// Offset is the byte offset in the JSON (or binary) input, -1 when the
	// error does not come from decoding input.
	Offset int
	Err    error
}

// Error returns "path: problem", or "at offset: problem" for errors with no
// field path.
func (e *FieldError) Error() string {
	switch {
	case e.Path != "":
		return e.Path + ": " + e.Err.Error()
	case e.Offset >= 0:
		return fmt.Sprintf("at %d: %v", e.Offset, e.Err)
	default:
		return e.Err.Error()
	}
}

// Unwrap returns the underlying error, which wraps one of the sentinels.
func (e *FieldError) Unwrap() error { return e.Err }

// reason is a problem description that wraps a sentinel without adding the
// sentinel's text to the message.
type reason struct {
	msg  string
	kind error
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

func fieldErr(path string, off int, kind error, msg string) *FieldError {
	return &FieldError{Path: path, Offset: off, Err: &reason{msg: msg, kind: kind}}
}

func syntaxErr(off int, format string, args ...any) *FieldError {
	return fieldErr("", off, ErrSyntax, fmt.Sprintf(format, args...))
}

func wrongType(path string, off int, want, got string) *FieldError {
	return fieldErr(path, off, ErrWrongType, "expected "+want+", got "+got)
}

func limitErr(path string, off int, format string, args ...any) *FieldError {
	return fieldErr(path, off, ErrLimit, fmt.Sprintf(format, args...))
}
