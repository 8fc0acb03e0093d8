//go:build !linux

package wal

// adviseHugePages does nothing where transparent huge pages are not
// known.
func adviseHugePages([]byte) {}
