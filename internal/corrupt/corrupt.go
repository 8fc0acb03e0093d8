// Package corrupt holds the one marker of damaged stored data. The
// corruption errors of every format — a WAL record, a segment block or
// section, a postings list, the manifest, a damaged range a query reached —
// match Err with errors.Is besides their own package's marker and keep
// their own locations; the engine exports it as eventlog.ErrCorrupt, so a
// caller asks one question whatever broke.
package corrupt

import "errors"

// Err is matched by every corruption error of the store.
var Err = errors.New("stored data is damaged")

// New returns a package's own corruption marker: an error that reads text
// and also matches Err.
func New(text string) error { return &marker{text} }

type marker struct{ text string }

func (m *marker) Error() string { return m.text }

// Is makes errors.Is(m, Err) hold.
func (m *marker) Is(target error) bool { return target == Err }
