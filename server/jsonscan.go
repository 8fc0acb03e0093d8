package server

import (
	"errors"
	"fmt"
)

// The scanner below only finds the bounds of JSON values (strings, nesting)
// so that a batch can be cut into documents; event.Decode checks each
// document strictly.

var errUnexpectedEnd = errors.New("unexpected end of input")

// splitArray returns the elements of the JSON array data, which starts
// with '['. Offsets in its errors count from the '['.
func splitArray(data []byte) ([][]byte, error) {
	var elems [][]byte
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return elems, trailing(data, i+1)
	}
	for {
		end, err := scanValue(data, i)
		if err != nil {
			return nil, err
		}
		elems = append(elems, data[i:end])
		i = skipSpace(data, end)
		switch {
		case i == len(data):
			return nil, fmt.Errorf("at offset %d: %w: expected ',' or ']'", i, errUnexpectedEnd)
		case data[i] == ']':
			return elems, trailing(data, i+1)
		case data[i] != ',':
			return nil, fmt.Errorf("at offset %d: expected ',' or ']' after an element, found %q", i, data[i])
		}
		i = skipSpace(data, i+1)
	}
}

// trailing checks that only whitespace follows offset i.
func trailing(data []byte, i int) error {
	if j := skipSpace(data, i); j != len(data) {
		return fmt.Errorf("at offset %d: data after the array", j)
	}
	return nil
}

// scanValue returns the end of the JSON value starting at data[i]: after
// the bracket closing an object or array, the quote closing a string, or
// the last byte of a literal.
func scanValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, fmt.Errorf("at offset %d: %w: expected a value", i, errUnexpectedEnd)
	}
	switch data[i] {
	case '"':
		return scanString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := scanString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("at offset %d: %w: the value opened there is not closed", i, errUnexpectedEnd)
	}
	j := i
	for j < len(data) && !isDelimiter(data[j]) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("at offset %d: expected a value, found %q", i, data[i])
	}
	return j, nil
}

// scanString returns the offset after the string starting at data[i].
func scanString(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("at offset %d: %w: the string opened there is not closed", i, errUnexpectedEnd)
}

func isDelimiter(c byte) bool {
	return c == ',' || c == ']' || c == '}' || c == '[' || c == '{' || c == '"' || isSpace(c)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the offset of the first non-whitespace byte at or after
// i.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}
