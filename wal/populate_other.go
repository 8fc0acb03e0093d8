//go:build !linux

package wal

// populateMapping does nothing here: the pages fault in as they are read.
func populateMapping([]byte) {}
