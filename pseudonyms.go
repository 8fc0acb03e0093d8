package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/privacy"
)

// pseudonymsFile records that the store pseudonymises, which fields, and
// a check value of the key (FORMAT.md, "PSEUDONYMS"), so that the store is
// never written with a second key, whose pseudonyms would never match the
// first's, nor without one, which would store names in the clear.
const pseudonymsFile = "PSEUDONYMS"

// pseudonymsRecord is the content of pseudonymsFile.
type pseudonymsRecord struct {
	Version  int      `json:"version"`
	Fields   []string `json:"fields"`
	KeyCheck string   `json:"key_check"`
}

// resolvePseudonyms reconciles o.Pseudonymizer with the record in dir,
// before anything is opened: a store with a record opened without a key
// gets a Keyless Pseudonymizer of its fields (no clear value stored, no
// filter by a clear value silently finding nothing); one opened with a
// different key is refused. It reports whether the record must be
// (re)written: the first open with a key, or a change of fields.
func resolvePseudonyms(o *Options, dir string) (write bool, err error) {
	path := filepath.Join(dir, pseudonymsFile)
	rec, err := readPseudonyms(o.FS, path)
	if err != nil {
		return false, err
	}
	p := o.Pseudonymizer
	switch {
	case p == nil && rec == nil:
		return false, nil
	case p == nil:
		if o.Pseudonymizer, err = privacy.Keyless(rec.Fields); err != nil {
			return false, fmt.Errorf("eventlog: %s: %w", path, err)
		}
		o.Logger.Warn("eventlog: the store pseudonymises fields but was opened without its key: events with clear values in them and filters by their values are refused",
			"fields", rec.Fields)
		return false, nil
	case p.KeyCheck() == "": // a Keyless one given by the caller
		return false, nil
	case rec != nil && rec.KeyCheck != p.KeyCheck():
		return false, fmt.Errorf("eventlog: the pseudonym key is not the one this store's pseudonyms were made with (%s): "+
			"pseudonyms of two keys never match; give the store's key", path)
	}
	return !o.ReadOnly && (rec == nil || !slices.Equal(rec.Fields, p.Fields())), nil
}

// writePseudonyms writes the record of p in dir, crash-safely.
func writePseudonyms(fsys vfs.FS, dir string, p *privacy.Pseudonymizer) error {
	path := filepath.Join(dir, pseudonymsFile)
	data, err := json.MarshalIndent(pseudonymsRecord{Version: 1, Fields: p.Fields(), KeyCheck: p.KeyCheck()}, "", "  ")
	if err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(fsys, path, append(data, '\n')); err != nil {
		return fmt.Errorf("eventlog: write %s: %w", path, err)
	}
	return nil
}

// readPseudonyms reads the record at path; nil when there is none.
func readPseudonyms(fsys vfs.FS, path string) (*pseudonymsRecord, error) {
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: read %s: %w", path, err)
	}
	var rec pseudonymsRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("eventlog: %s: %w", path, err)
	}
	if rec.Version != 1 {
		return nil, fmt.Errorf("eventlog: %s: version %d, want 1 (a newer eventlog wrote it)", path, rec.Version)
	}
	return &rec, nil
}
