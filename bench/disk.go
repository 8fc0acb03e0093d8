package bench

import (
	"io/fs"
	"path/filepath"
	"strings"
)

// dirSizes walks dir and sums the sizes of its regular files by top-level
// entry ("wal", "segments", "MANIFEST", ...).
func dirSizes(dir string) (map[string]int64, error) {
	sizes := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		sizes[top] += info.Size()
		return nil
	})
	return sizes, err
}

func sumSizes(sizes map[string]int64) int64 {
	var total int64
	for _, n := range sizes {
		total += n
	}
	return total
}
