package segment

import (
	"os"
	"path/filepath"
	"testing"
)

func TestZZDescribe(t *testing.T) {
	rows, _ := benchRows(benchEvents)
	path := filepath.Join(t.TempDir(), "seg")
	if _, err := Write(path, rows, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Describe(os.Stdout)
}
