package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errLineTooLong marks a line over the document size limit.
var errLineTooLong = errors.New("line over the document size limit")

// lineReader reads newline-terminated lines of at most max bytes (not
// counting the "\n" or "\r\n"), holding at most one line in memory. A
// longer line is skipped to its end and reported as errLineTooLong, so
// reading can go on with the next line.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
	n   int // number (from 1) of the line last returned
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line ending, valid until the next
// call; io.EOF after the last. A last line without "\n" counts.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	long := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !long && len(l.buf)+len(chunk) <= l.max+2 {
			l.buf = append(l.buf, chunk...)
		} else {
			long = true
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(l.buf) == 0 && !long:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			l.n++
			return nil, err
		}
		l.n++
		line := bytes.TrimSuffix(bytes.TrimSuffix(l.buf, []byte("\n")), []byte("\r"))
		if long || len(line) > l.max {
			return nil, fmt.Errorf("%w of %d bytes", errLineTooLong, l.max)
		}
		return line, nil
	}
}

// isBlank reports whether line holds only spaces and tabs.
func isBlank(line []byte) bool {
	return len(bytes.Trim(line, " \t")) == 0
}
