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

// StoreDisk measures a closed data directory holding events events (of
// jsonBytes of JSON): its size, split into segments and WAL, per event, and
// its segments' Layout.
func StoreDisk(dir string, events, jsonBytes int64) (*Disk, error) {
	sizes, err := dirSizes(dir)
	if err != nil {
		return nil, err
	}
	d := &Disk{Bytes: sumSizes(sizes), SegmentBytes: sizes["segments"], WALBytes: sizes["wal"]}
	if d.Layout, err = StoreLayout(dir); err != nil {
		return nil, err
	}
	d.Segments = d.Layout.Segments
	if events > 0 && d.Bytes > 0 {
		d.BytesPerEvent = float64(d.Bytes) / float64(events)
		d.SegmentBytesPerEvent = float64(d.SegmentBytes) / float64(events)
		d.CompressionRatio = float64(jsonBytes) / float64(d.Bytes)
	}
	return d, nil
}
