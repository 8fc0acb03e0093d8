package tiering

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// stateFile, in the data directory, holds the identity of the writer the
// directory is in its object-store prefix: JSON {"version":1,"writer":ID}.
// It is written once, when the directory first publishes to an empty
// prefix (or by Pull, which restores the writer's identity with its data).
const stateFile = "OBJECTSTORE"

// Small files of the data directory copied into every bucket manifest.
const (
	registryFile   = "registry.json"
	pseudonymsFile = "PSEUDONYMS"
	holdsFile      = "HOLDS"
)

// publishedFiles are the names a bucket manifest's files may have.
var publishedFiles = []string{registryFile, pseudonymsFile, holdsFile}

type localState struct {
	Version int    `json:"version"`
	Writer  string `json:"writer"`
}

// readWriterID returns the writer identity of data directory dir, "" when
// it has none.
func readWriterID(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", stateFile, err)
	}
	var st localState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil || st.Version != 1 || st.Writer == "" {
		return "", fmt.Errorf("%s does not parse as {\"version\":1,\"writer\":ID}", filepath.Join(dir, stateFile))
	}
	return st.Writer, nil
}

// writeWriterID records id as dir's writer identity, crash-safely.
func writeWriterID(dir, id string) error {
	data, _ := json.Marshal(localState{Version: 1, Writer: id})
	path := filepath.Join(dir, stateFile)
	if err := makeDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := vfs.WriteFileAtomic(vfs.OS{}, path, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newWriterID returns a random writer identity.
func newWriterID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// makeDir creates the data directory if needed (the uploader claims the
// prefix before the store opens), fsyncing its parent as the store does.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return (vfs.OS{}).SyncDir(filepath.Dir(dir))
}
