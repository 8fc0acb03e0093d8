package tlsfiles_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/syncbuf"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog/internal/tlsfiles"
	"github.com/eventlogdb/eventlog/internal/tlsfiles/testcert"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a server on 127.0.0.1 serving TLS from a Reloader over files
// in a temporary directory.
type fixture struct {
	dir, certFile, keyFile string
	r                      *tlsfiles.Reloader
	url                    string
}

func serve(t *testing.T, leaf *testcert.Leaf, clientCA []byte) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.certFile = testcert.Write(t, f.dir, "tls.crt", leaf.CertPEM)
	f.keyFile = testcert.Write(t, f.dir, "tls.key", leaf.KeyPEM)
	files := tlsfiles.Files{Cert: f.certFile, Key: f.keyFile}
	if clientCA != nil {
		files.ClientCA = testcert.Write(t, f.dir, "client-ca.crt", clientCA)
	}
	r, err := tlsfiles.New(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(tls.NewListener(ln, r.Config())) }()
	t.Cleanup(func() { srv.Close(); <-done })
	f.url = "https://" + ln.Addr().String()
	return f
}

// client trusts roots and presents certs.
func client(t *testing.T, roots []*testcert.CA, certs ...*testcert.Leaf) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	for _, ca := range roots {
		pool.AddCert(ca.Cert)
	}
	cfg := &tls.Config{RootCAs: pool}
	for _, c := range certs {
		pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = append(cfg.Certificates, pair)
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// get fetches url and returns the serial of the certificate the
// connection saw and whether the connection was reused.
func get(t *testing.T, hc *http.Client, url string) (serial string, reused bool) {
	t.Helper()
	var info httptrace.GotConnInfo
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(),
		&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { info = i }}), "GET", url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.String(), info.Reused
}

func hour(n int) time.Time { return time.Now().Add(time.Duration(n) * time.Hour) }

func TestReloadKeepsOpenConnections(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	old, next := ca.Server(t, "old", hour(-1), hour(24)), ca.Server(t, "new", hour(-1), hour(24))
	f := serve(t, old, nil)
	hc := client(t, []*testcert.CA{ca})
	if s, _ := get(t, hc, f.url); s != old.Cert.SerialNumber.String() {
		t.Fatalf("served %s, want the old certificate", s)
	}
	if changed, err := f.r.Reload(); changed || err != nil {
		t.Fatalf("reload of unchanged files: changed %v, %v", changed, err)
	}
	testcert.Write(t, f.dir, "tls.crt", next.CertPEM)
	testcert.Write(t, f.dir, "tls.key", next.KeyPEM)
	if changed, err := f.r.Reload(); !changed || err != nil {
		t.Fatalf("reload: changed %v, %v", changed, err)
	}
	// The keep-alive connection opened before the reload still serves,
	// with the session it has.
	s, reused := get(t, hc, f.url)
	if !reused || s != old.Cert.SerialNumber.String() {
		t.Fatalf("after the reload the open connection: reused %v, certificate %s", reused, s)
	}
	fresh := client(t, []*testcert.CA{ca})
	if s, _ := get(t, fresh, f.url); s != next.Cert.SerialNumber.String() {
		t.Fatalf("a new connection got %s, want the new certificate", s)
	}
}

func TestBrokenPairIsKeptOut(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	old := ca.Server(t, "old", hour(-1), hour(24))
	f := serve(t, old, nil)
	for name, write := range map[string]func(){
		"certificate written before its key": func() {
			testcert.Write(t, f.dir, "tls.crt", ca.Server(t, "new", hour(-1), hour(24)).CertPEM)
		},
		"expired certificate": func() {
			l := ca.Server(t, "expired", hour(-48), hour(-24))
			testcert.Write(t, f.dir, "tls.crt", l.CertPEM)
			testcert.Write(t, f.dir, "tls.key", l.KeyPEM)
		},
		"garbage key": func() { testcert.Write(t, f.dir, "tls.key", []byte("not a key")) },
		"missing key": func() { os.Remove(f.keyFile) },
	} {
		t.Run(name, func(t *testing.T) {
			testcert.Write(t, f.dir, "tls.crt", old.CertPEM)
			testcert.Write(t, f.dir, "tls.key", old.KeyPEM)
			write()
			if changed, err := f.r.Reload(); changed || err == nil {
				t.Fatalf("reload: changed %v, err %v; want an error", changed, err)
			}
			fresh := client(t, []*testcert.CA{ca})
			if s, _ := get(t, fresh, f.url); s != old.Cert.SerialNumber.String() {
				t.Fatalf("served %s, want the old certificate still", s)
			}
		})
	}
}

func TestRunReloadsOnSignalAndOnChange(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	old := ca.Server(t, "old", hour(-1), hour(24))
	f := serve(t, old, nil)
	var logs syncbuf.Buffer
	r, err := tlsfiles.New(tlsfiles.Files{Cert: f.certFile, Key: f.keyFile}, slogTo(&logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, time.Millisecond, hup) }()
	defer func() { cancel(); <-done }()

	hup <- os.Interrupt // any signal: Run is asked to reload
	next := ca.Server(t, "new", hour(-1), hour(24))
	testcert.Write(t, f.dir, "tls.key", next.KeyPEM) // a half-done rotation
	testcert.Write(t, f.dir, "tls.crt", next.CertPEM)
	for r.Certificate().SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
		time.Sleep(time.Millisecond) // the poll finds the change
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "serving a new certificate") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

func TestMutualTLS(t *testing.T) {
	ca, clients, other := testcert.NewCA(t, "ca"), testcert.NewCA(t, "clients"), testcert.NewCA(t, "other")
	f := serve(t, ca.Server(t, "server", hour(-1), hour(24)), clients.PEM)
	roots := []*testcert.CA{ca}
	if _, err := client(t, roots).Get(f.url); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	if _, err := client(t, roots, other.Client(t, "mallory")).Get(f.url); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	get(t, client(t, roots, clients.Client(t, "alice")), f.url)
}

func TestNewNamesTheProblem(t *testing.T) {
	ca := testcert.NewCA(t, "ca")
	l := ca.Server(t, "s", hour(-1), hour(24))
	dir := t.TempDir()
	cert := testcert.Write(t, dir, "c", l.CertPEM)
	key := testcert.Write(t, dir, "k", l.KeyPEM)
	for name, c := range map[string]struct {
		files tlsfiles.Files
		want  string
	}{
		"no key file":    {tlsfiles.Files{Cert: cert, Key: dir + "/none"}, "tls key: open " + dir + "/none"},
		"key as cert":    {tlsfiles.Files{Cert: key, Key: key}, "tls: " + key + " and " + key},
		"empty clientCA": {tlsfiles.Files{Cert: cert, Key: key, ClientCA: testcert.Write(t, dir, "ca", nil)}, "holds no PEM certificate"},
	} {
		if _, err := tlsfiles.New(c.files, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
