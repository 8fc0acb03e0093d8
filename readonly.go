package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// readOnlyFile marks a store that must not take writes until an operator
// has looked at it: Repair writes it when a rebuilt manifest cannot be
// proven to hold every delete by query (FORMAT.md, "READONLY"). Open then
// opens read-only and says why; deleting the file lifts it.
const readOnlyFile = "READONLY"

// readOnlyReason returns the reason in dir's READONLY marker, "" when there
// is none.
func readOnlyReason(fsys vfs.FS, dir string) (string, error) {
	data, err := vfs.ReadFile(fsys, filepath.Join(dir, readOnlyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("eventlog: read %s: %w", filepath.Join(dir, readOnlyFile), err)
	}
	reason, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n\n")
	if reason == "" {
		reason = "the " + readOnlyFile + " marker is present"
	}
	return reason, nil
}

// writeReadOnly writes dir's READONLY marker, crash-safely.
func writeReadOnly(fsys vfs.FS, dir, reason string) error {
	path := filepath.Join(dir, readOnlyFile)
	text := reason + "\n\nDelete this file to let the store take writes again, once the reason above is dealt with.\n"
	if err := vfs.WriteFileAtomic(fsys, path, []byte(text)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
