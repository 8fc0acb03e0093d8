// Package objstoretest runs an S3-compatible server for tests on a free
// loopback port over a temporary directory, and a proxy that injects
// faults in front of it. The server is versitygw with its posix backend,
// or MinIO when the environment variable EVENTLOG_S3_SERVER is "minio"
// (see servers.go): every test that starts a server runs on either.
package objstoretest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/eventlogdb/eventlog/objstore"
)

// The test server's root credentials.
const (
	accessKey = "eventlogtest"
	secretKey = "eventlogtestsecret"
)

// Server is a running S3-compatible server.
type Server struct {
	t      testing.TB
	kind   serverKind
	bin    string
	root   string
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs the test's S3-compatible server (see serverFromEnv), stopped
// at the test's end. Without the binary the test is skipped, or fails when
// the environment variable CI is set (CI installs it: .ci/run).
func Start(t testing.TB) *Server {
	t.Helper()
	kind, err := serverFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath(kind.binary)
	if err != nil {
		if gobin := goBin(); gobin != "" {
			if _, serr := os.Stat(filepath.Join(gobin, kind.binary)); serr == nil {
				bin, err = filepath.Join(gobin, kind.binary), nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (CI must install it: %s)", kind.binary, kind.install)
		}
		t.Skipf("%s not found; install it with: %s", kind.binary, kind.install)
	}
	s := &Server{t: t, kind: kind, bin: bin, root: t.TempDir(), addr: freeAddr(t)}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// goBin is where go install puts binaries.
func goBin() string {
	if b := os.Getenv("GOBIN"); b != "" {
		return b
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(p, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go", "bin")
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Restart starts the server (again, after Stop) on the same port and
// directory, and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, s.kind.args(s.addr, s.root)...)
	s.cmd.Env = append(os.Environ(), s.kind.env...)
	// Its request log is left out: it would bury the test's own output.
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.kind.binary, err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.exited)
	// MinIO listens before it serves; a GET on the server's root answers
	// (with some status) once requests reach the S3 handlers.
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.kind.readyURL(s.addr))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		select {
		case <-s.exited:
			s.t.Fatalf("%s exited at start", s.kind.binary)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not ready on %s after 30 s", s.kind.binary, s.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Config returns the configuration of a store in a new bucket of the
// server (created now), under prefix, reached through endpoint (the
// server itself when empty, or a proxy in front of it).
func (s *Server) Config(bucket, prefix, endpoint string) objstore.S3Config {
	s.t.Helper()
	c, err := minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""),
		BucketLookup: minio.BucketLookupPath})
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		s.t.Fatalf("make bucket %s: %v", bucket, err)
	}
	return s.config(bucket, prefix, endpoint)
}

// ConfigExisting is Config for a bucket made already.
func (s *Server) ConfigExisting(bucket, prefix string) objstore.S3Config {
	return s.config(bucket, prefix, "")
}

// Credentials returns the server's access and secret key.
func (s *Server) Credentials() (access, secret string) { return accessKey, secretKey }

func (s *Server) config(bucket, prefix, endpoint string) objstore.S3Config {
	if endpoint == "" {
		endpoint = s.addr
	}
	return objstore.S3Config{Bucket: bucket, Prefix: prefix, Endpoint: "http://" + endpoint, PathStyle: true,
		AccessKey: accessKey, SecretKey: secretKey, MaxRetries: 1, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// Store returns an S3 store on a new bucket (see Config).
func (s *Server) Store(bucket, prefix string) *objstore.S3 {
	s.t.Helper()
	st, err := objstore.NewS3(s.Config(bucket, prefix, ""))
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// String names the server for messages.
func (s *Server) String() string { return fmt.Sprintf("%s at %s", s.kind.binary, s.addr) }
