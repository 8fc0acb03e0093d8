package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLineReader(t *testing.T) {
	const tooLong = "<too long>"
	f := func(input string, max int, want ...string) {
		t.Helper()
		lr := newLineReader(strings.NewReader(input), max)
		var got []string
		for {
			line, err := lr.next()
			if err == io.EOF {
				break
			}
			switch {
			case errors.Is(err, errLineTooLong):
				got = append(got, tooLong)
			case err != nil:
				t.Fatalf("line %d: %v", lr.n, err)
			default:
				got = append(got, string(line))
			}
		}
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Fatalf("%.40q: got %q, want %q", input, got, want)
		}
	}
	f("", 5)
	f("\n", 5, "")
	f("ab\ncdefgh\n\r\nxy", 5, "ab", tooLong, "", "xy")
	f("abcde\r\nabcdef\r\n", 5, "abcde", tooLong)
	f("a\rb\n", 5, "a\rb")
	big := strings.Repeat("y", 70_000) // over bufio's 64 KiB buffer
	f(big+"\n"+big+"z\nok", 70_000, big, tooLong, "ok")
	f(strings.Repeat("y", 300_000)+"\nok\n", 70_000, tooLong, "ok")
}
