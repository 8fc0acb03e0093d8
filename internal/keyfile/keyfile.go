// Package keyfile reads the secret keys the store is given (the pseudonym
// key, the secrets key) from files that must lie outside the data
// directory: a key kept inside would travel with every copy and backup of
// the data it protects.
package keyfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Read reads the key called what (e.g. "pseudonym key") from file, which
// must lie outside dataDir ("": no data directory is involved).
// Surrounding whitespace is not part of the key, so a file written by
// `openssl rand -base64 32 > FILE` works as is. The key never appears in
// an error.
func Read(what, file, dataDir string) ([]byte, error) {
	if dataDir != "" && Inside(file, dataDir) {
		return nil, fmt.Errorf("%s file %s is inside the data directory %s: keep it elsewhere, so that copies of the data do not carry it", what, file, dataDir)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// Inside reports whether file lies in dir, after resolving symbolic links
// where they exist.
func Inside(file, dir string) bool {
	abs := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	rel, err := filepath.Rel(abs(dir), abs(file))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
