package tiering_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

// TestCacheRestart: a cache reopened on its directory takes in the whole
// segments and pinned parts left there (no GET to open them), removes
// leftover temporary files, and evicts what no longer fits a smaller
// MaxBytes, keeping the newest.
func TestCacheRestart(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	for range 3 {
		w.appendSealed(20)
	}
	w.waitPublished()
	m := latest(t, s)
	dir := t.TempDir()
	c, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: dir, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	for i, o := range m.Segments {
		if err := c.Add(o, filepath.Join(w.dir, "segments", o.Name)); err != nil {
			t.Fatal(err)
		}
		mod := base.Add(time.Duration(i) * time.Minute) // the last added is the newest
		if err := os.Chtimes(filepath.Join(dir, o.Name), mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := os.WriteFile(filepath.Join(dir, "000000000009.seg.123.tmp"), []byte("half a download"), 0o644); err != nil {
		t.Fatal(err)
	}
	newest := m.Segments[len(m.Segments)-1]
	c, err = tiering.NewCache(tiering.CacheConfig{Store: s, Dir: dir, MaxBytes: newest.Bytes})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.Stats()
	if st.WholeSegments != 1 || st.PinnedSegments != 3 || st.Evictions != 2 {
		t.Fatalf("reopened with room for one: %+v, want 1 whole, 3 pinned, 2 evictions", st)
	}
	if _, err := os.Stat(filepath.Join(dir, newest.Name)); err != nil {
		t.Fatalf("the newest segment was evicted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "000000000009.seg.123.tmp")); !os.IsNotExist(err) {
		t.Fatalf("leftover temporary file: %v", err)
	}
	v, err := c.OpenView(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if st := c.Stats(); st.GETs != 0 || st.Hits != 1 || st.Misses != 2 {
		t.Fatalf("opening the view after a restart: %+v, want no GET, 1 hit, 2 misses", st)
	}
	// The cache's metrics, gathered in-process through the Go client
	// library (github.com/prometheus/client_golang, a module dependency
	// that go mod download fetches): no Prometheus server is involved.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c.Collector())
	want := map[string]float64{"eventlog_object_store_cache_hits_total": 1, "eventlog_object_store_cache_misses_total": 2,
		"eventlog_object_store_cache_evictions_total": 2, "eventlog_object_store_cache_whole_segments": 1,
		"eventlog_object_store_cache_pinned_segments": 3, "eventlog_object_store_cache_gets_total": 0}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 14 {
		t.Fatalf("gathered %d metric families, %v; want 14", len(mfs), err)
	}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if w, ok := want[mf.GetName()]; ok && v != w {
			t.Errorf("%s = %v, want %v", mf.GetName(), v, w)
		}
	}
}

// TestCacheDamagedLocalFiles: a local pinned part damaged on disk is
// fetched again (the view answers); a hot segment whose object no longer
// matches the manifest's SHA-256 is refused, naming the object, and
// nothing of it is kept whole.
func TestCacheDamagedLocalFiles(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(40)
	w.waitPublished()
	m := latest(t, s)
	o := m.Segments[0]
	dir := t.TempDir()
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: dir, MaxBytes: 1 << 30})
	r, err := c.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	pin := filepath.Join(dir, strings.TrimSuffix(o.Name, ".seg")+".pin")
	data, err := os.ReadFile(pin)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-20] ^= 0xff // inside the footer's fields
	if err := os.WriteFile(pin, data, 0o644); err != nil {
		t.Fatal(err)
	}
	gets := c.Stats().GETs
	r, err = c.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("open over a damaged local pinned part: %v", err)
	}
	evs, err := r.Events(allRows(40))
	r.Close()
	if err != nil || len(evs) != 40 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	if got := c.Stats().GETs - gets; got < 3 {
		t.Fatalf("the damaged pinned part was not fetched again (%d GETs)", got)
	}
	if again, _ := os.ReadFile(pin); bytes.Equal(again, data) {
		t.Fatal("the damaged pinned part stayed on disk")
	}
	// The object changes under the manifest (same size): its download,
	// once the segment is hot, is refused.
	obj, err := objstore.GetBytes(context.Background(), s, o.Key, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	obj[10] ^= 0xff
	if err := objstore.PutBytes(context.Background(), s, o.Key, obj, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), o.Key) {
		t.Fatalf("download of a changed object: %v, want a sha256 mismatch naming %s", err, o.Key)
	}
	if st := c.Stats(); st.WholeSegments != 0 || st.Downloads != 0 {
		t.Fatalf("after the refused download: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, o.Name)); !os.IsNotExist(err) {
		t.Fatalf("the refused download was kept: %v", err)
	}
}
