package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (an *os.File on a tty).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressOptions are the options every bar shares. When w is not a
// terminal the bar is invisible: its methods do nothing and
// progressbar.Bprintf writes straight to w, so redirected output and logs
// stay free of escape sequences.
func progressOptions(w io.Writer, description string) []progressbar.Option {
	return []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetVisibility(isTerminal(w)),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSpinnerType(14),
	}
}

// newByteProgress returns a bar on w counting the bytes of an input of
// size bytes (-1: unknown, a spinner). Text printed with
// progressbar.Bprintf shows above it, and the finished bar stays.
func newByteProgress(w io.Writer, size int64, description string) *progressbar.ProgressBar {
	opts := append(progressOptions(w, description),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		// Clearing on finish would drop the text printed with Bprintf
		// since the last render.
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	return progressbar.NewOptions64(size, opts...)
}

// newEventProgress returns a spinner on w counting events and their rate,
// erased when finished.
func newEventProgress(w io.Writer, description string) *progressbar.ProgressBar {
	opts := append(progressOptions(w, description),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionClearOnFinish())
	return progressbar.NewOptions64(-1, opts...)
}
