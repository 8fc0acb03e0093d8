package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/eventlogdb/eventlog"
)

// requireDataDir checks that dir is an existing directory. A read-only open
// of a missing one is an empty store: a typo in --data would print nothing
// and succeed.
func requireDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("data directory %s does not exist (--data DIR, or $EVENTLOG_DATA)", dir)
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a data directory", dir)
	}
	return nil
}

// openRead opens an existing data directory read-only, for the commands
// that only read it, pseudonymising their filters as the environment says
// (pseudonymFromEnv).
func openRead(dir string) (*eventlog.DB, error) {
	if err := requireDataDir(dir); err != nil {
		return nil, err
	}
	p, err := pseudonymFromEnv(dir)
	if err != nil {
		return nil, err
	}
	return eventlog.Open(dir, eventlog.Options{ReadOnly: true, Pseudonymizer: p})
}
