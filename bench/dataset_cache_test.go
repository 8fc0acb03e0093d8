package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// loadDataSet returns a benchmark data set cached in dir between runs: the
// store in dir/db and, in dir/marker, what build said of it (a T, which
// holds the counts the benchmarks check their answers against). Without a
// complete cache it builds one first; built reports whether it did.
func loadDataSet[T any](dir, marker string, build func(dbDir string) (T, error)) (d T, dbDir string, built bool, err error) {
	d, err = readDataSet[T](dir, marker)
	if errors.Is(err, fs.ErrNotExist) {
		built = true
		d, err = buildDataSet(dir, marker, build)
	}
	return d, filepath.Join(dir, "db"), built, err
}

func readDataSet[T any](dir, marker string) (T, error) {
	var d T
	b, err := os.ReadFile(filepath.Join(dir, marker))
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%s: %w (delete %s to rebuild)", marker, err, dir)
	}
	return d, nil
}

// buildDataSet builds the data set in dir+".building", writes its marker
// and renames it to dir, so a cache is complete or absent. Leftovers of an
// interrupted build are removed first.
func buildDataSet[T any](dir, marker string, build func(dbDir string) (T, error)) (T, error) {
	var d T
	tmp := dir + ".building"
	if err := errors.Join(os.RemoveAll(dir), os.RemoveAll(tmp)); err != nil {
		return d, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return d, err
	}
	d, err := build(filepath.Join(tmp, "db"))
	if err != nil {
		return d, fmt.Errorf("build %s: %w", tmp, err)
	}
	b, err := json.MarshalIndent(d, "", "\t")
	if err != nil {
		return d, err
	}
	if err := os.WriteFile(filepath.Join(tmp, marker), append(b, '\n'), 0o644); err != nil {
		return d, err
	}
	return d, os.Rename(tmp, dir)
}
