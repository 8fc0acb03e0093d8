package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
)

// stores returns every implementation under test, each on an empty
// bucket: the contract below must hold for all of them alike.
func stores(t *testing.T) map[string]objstore.Store {
	dir, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := objstoretest.Start(t)
	return map[string]objstore.Store{"dir": dir, "s3": srv.Store("contract", "pre/fix")}
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			data := []byte("hello, object store\n")
			meta := map[string]string{"sha256": "abc123"}
			if err := objstore.PutBytes(ctx, s, "segments/a.seg", data, objstore.PutOptions{Metadata: meta}); err != nil {
				t.Fatal(err)
			}
			got, err := objstore.GetBytes(ctx, s, "segments/a.seg", 1<<20)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("get = %q, %v; want %q", got, err, data)
			}
			part, err := s.GetRange(ctx, "segments/a.seg", 7, 6)
			if err != nil || string(part) != "object" {
				t.Fatalf("range = %q, %v; want %q", part, err, "object")
			}
			tail, err := s.GetRange(ctx, "segments/a.seg", int64(len(data))-2, 10)
			if err != nil || string(tail) != "e\n" {
				t.Fatalf("range past the end = %q, %v; want %q", tail, err, "e\n")
			}
			// A length from a bad manifest: what the object holds, no more
			// (and no allocation of the length asked).
			huge, err := s.GetRange(ctx, "segments/a.seg", 7, 1<<50)
			if err != nil || string(huge) != string(data[7:]) {
				t.Fatalf("range of 2^50 bytes = %q, %v; want %q", huge, err, data[7:])
			}
			info, err := s.Head(ctx, "segments/a.seg")
			if err != nil || info.Size != int64(len(data)) || info.Metadata["sha256"] != "abc123" {
				t.Fatalf("head = %+v, %v", info, err)
			}
			// Overwrite without a condition replaces; with one, refuses.
			if err := objstore.PutBytes(ctx, s, "segments/a.seg", []byte("v2"), objstore.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			err = objstore.PutBytes(ctx, s, "segments/a.seg", []byte("v3"), objstore.PutOptions{IfNoneMatch: true})
			if !errors.Is(err, objstore.ErrPrecondition) {
				t.Fatalf("conditional put on a taken key: %v, want ErrPrecondition", err)
			}
			if got, _ := objstore.GetBytes(ctx, s, "segments/a.seg", 1<<20); string(got) != "v2" {
				t.Fatalf("after the refused put the object holds %q, want v2", got)
			}
			if err := s.Delete(ctx, "segments/a.seg"); err != nil {
				t.Fatal(err)
			}
			for op, err := range map[string]error{
				"head": func() error { _, err := s.Head(ctx, "segments/a.seg"); return err }(),
				"get":  func() error { _, err := s.Get(ctx, "segments/a.seg"); return err }(),
			} {
				if !errors.Is(err, objstore.ErrNotFound) || !strings.Contains(err.Error(), "segments/a.seg") {
					t.Errorf("%s after delete: %v, want ErrNotFound naming the key", op, err)
				}
			}
			if err := s.Delete(ctx, "segments/a.seg"); err != nil {
				t.Errorf("deleting a missing key: %v", err)
			}
			if err := objstore.ProbeConditionalWrites(ctx, s); err != nil {
				t.Errorf("probe: %v", err)
			}
		})
	}
}

// TestS3Multipart puts an object larger than the part size: it goes up
// in parts and comes back byte for byte.
func TestS3Multipart(t *testing.T) {
	srv := objstoretest.Start(t)
	cfg := srv.Config("multipart", "", "")
	cfg.PartSize = 5 << 20 // S3's minimum
	s, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 11<<20+123)
	_, _ = rand.Read(data)
	ctx := context.Background()
	if err := objstore.PutBytes(ctx, s, "big", data, objstore.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("multipart object differs (%d bytes back, %v)", len(got), err)
	}
}

// TestS3Faults: 503 SlowDown and 500 answers are retried by the client
// up to MaxRetries; past that the error names the object and the code.
func TestS3Faults(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	cfg := srv.Config("faults", "p", proxy.Addr())
	cfg.MaxRetries = 3
	s, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	left := 2
	proxy.Fail(func(r *http.Request) int {
		if r.Method == http.MethodPut && left > 0 {
			left--
			return http.StatusServiceUnavailable
		}
		return 0
	})
	if err := objstore.PutBytes(ctx, s, "k", []byte("v"), objstore.PutOptions{}); err != nil {
		t.Fatalf("put through two 503s with 3 tries: %v", err)
	}
	proxy.Fail(func(r *http.Request) int { return http.StatusInternalServerError })
	err = objstore.PutBytes(ctx, s, "k2", []byte("v"), objstore.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "k2") {
		t.Fatalf("put through endless 500s: %v, want an error naming the key", err)
	}
	if proxy.Faults() < 2+3 {
		t.Errorf("proxy answered %d faults, want the client to have retried", proxy.Faults())
	}
}

// TestProbeRefusesOverwritingStore: a store that ignores If-None-Match
// is reported as unable to fence a second writer.
func TestProbeRefusesOverwritingStore(t *testing.T) {
	dir, _ := objstore.NewDir(t.TempDir())
	err := objstore.ProbeConditionalWrites(context.Background(), ignoreCondition{dir})
	if err == nil || !strings.Contains(err.Error(), "does not support conditional writes") {
		t.Fatalf("probe = %v", err)
	}
}

// ignoreCondition is a store that drops the condition, as some servers do.
type ignoreCondition struct{ *objstore.Dir }

func (s ignoreCondition) Put(ctx context.Context, key string, r io.ReaderAt, size int64, o objstore.PutOptions) error {
	o.IfNoneMatch = false
	return s.Dir.Put(ctx, key, r, size, o)
}

// BenchmarkS3Put measures upload throughput to versitygw on loopback,
// single-part (16 MiB) and multipart (80 MiB in 16 MiB parts).
func BenchmarkS3Put(b *testing.B) {
	srv := objstoretest.Start(b)
	cfg := srv.Config("bench", "", "")
	cfg.PartSize = 16 << 20
	s, err := objstore.NewS3(cfg)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, size := range []int{16 << 20, 80 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			data := make([]byte, size)
			_, _ = rand.Read(data)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				n++
				if err := objstore.PutBytes(context.Background(), s, fmt.Sprint("seg", n), data, objstore.PutOptions{IfNoneMatch: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
