package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/tlsfiles/testcert"
)

// tlsServe runs eventlog serve in-process on data with args and returns
// its URL and the channel that stands for SIGHUP.
func tlsServe(t *testing.T, data string, args ...string) (url string, hup chan os.Signal) {
	t.Helper()
	return serveWithArgs(t, data, io.Discard, args...)
}

// serveWithArgs is tlsServe logging to logs (written until the test's
// cleanup has run).
func serveWithArgs(t *testing.T, data string, logs io.Writer, args ...string) (url string, hup chan os.Signal) {
	t.Helper()
	cfg, err := loadServeConfig(append([]string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered"}, args...), envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.hup = make(chan os.Signal)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, pw, slog.New(slog.NewTextHandler(logs, nil))); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("serve printed nothing: %v", <-done)
	}
	go io.Copy(io.Discard, pr) // nothing more is printed; keep the pipe open
	line := sc.Text()
	return line[strings.LastIndex(line, " ")+1:], cfg.hup
}

// servedSerial is the serial of the certificate a new connection to url
// gets.
func servedSerial(t *testing.T, url string, roots *x509.CertPool) string {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.TLS.PeerCertificates[0].SerialNumber.String()
}

func TestServeTLSEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "eventlog test CA")
	leaf := ca.Server(t, "first", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	caFile := testcert.Write(t, dir, "ca.pem", ca.PEM)
	certFile := testcert.Write(t, dir, "tls.crt", leaf.CertPEM)
	keyFile := testcert.Write(t, dir, "tls.key", leaf.KeyPEM)
	data := filepath.Join(dir, "data")
	url, hup := tlsServe(t, data, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("served on %q", url)
	}
	if code, out, errs := runCLI(t, twoEvents, "ingest", "--url", url, "--ca", caFile); code != 0 || !strings.Contains(out, "ingested 2 events") {
		t.Fatalf("ingest over TLS: %d %q %q", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", "query", "--url", url, "--ca", caFile, "--filter", "event.provider:actions"); code != 0 || strings.Count(out, `"_seq"`) != 1 {
		t.Fatalf("query over TLS: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "query", "--url", url); code != 1 || !strings.Contains(errs, "certificate signed by unknown authority") || strings.Contains(errs, "attempts") {
		t.Fatalf("a CLI without --ca: %d %q; want one failed attempt, not retried", code, errs)
	}

	// SIGHUP after the files change: new connections get the new pair.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	next := ca.Server(t, "second", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	testcert.Write(t, dir, "tls.crt", next.CertPEM)
	testcert.Write(t, dir, "tls.key", next.KeyPEM)
	hup <- os.Interrupt
	hup <- os.Interrupt // the second send returns once the first was handled
	if got := servedSerial(t, url, roots); got != next.Cert.SerialNumber.String() {
		t.Fatalf("after SIGHUP served %s, want the new certificate", got)
	}
}

func TestServeMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, clients := testcert.NewCA(t, "server CA"), testcert.NewCA(t, "client CA")
	leaf := ca.Server(t, "server", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	url, _ := tlsServe(t, filepath.Join(dir, "data"),
		"--tls-cert", testcert.Write(t, dir, "tls.crt", leaf.CertPEM),
		"--tls-key", testcert.Write(t, dir, "tls.key", leaf.KeyPEM),
		"--tls-client-ca", testcert.Write(t, dir, "clients.pem", clients.PEM))
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	do := func(certs ...tls.Certificate) error {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(url + "/api/providers")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := do(); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	alice := clients.Client(t, "alice")
	pair, err := tls.X509KeyPair(alice.CertPEM, alice.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := do(pair); err != nil {
		t.Fatalf("a client certificate of the client CA: %v", err)
	}
	caFile := testcert.Write(t, dir, "ca.pem", ca.PEM)
	certFile := testcert.Write(t, dir, "alice.crt", alice.CertPEM)
	keyFile := testcert.Write(t, dir, "alice.key", alice.KeyPEM)
	if code, out, errs := runCLI(t, "", "query", "--url", url, "--ca", caFile, "--client-cert", certFile, "--client-key", keyFile); code != 0 || !strings.Contains(out, "total: 0") && !strings.Contains(errs, "total: 0") {
		t.Fatalf("the CLI with a client certificate: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "query", "--url", url, "--ca", caFile); code != 1 || !strings.Contains(errs, "certificate") || strings.Contains(errs, "attempts") {
		t.Fatalf("the CLI without a client certificate: %d %q; want one failed attempt", code, errs)
	}
}

func TestServeTLSSettings(t *testing.T) {
	for args, want := range map[string]string{
		"--tls-cert a.pem":       "tls-cert and tls-key: give both or neither",
		"--tls-key k.pem":        "tls-cert and tls-key: give both or neither",
		"--tls-client-ca ca.pem": "tls-client-ca needs tls-cert and tls-key",
		"--tls-cert a --tls-key b --tls-reload-interval 0s": "tls-reload-interval",
	} {
		if _, err := loadServeConfig(strings.Fields(args), envMap(nil), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	dir := t.TempDir()
	cfg, err := loadServeConfig([]string{"--data", filepath.Join(dir, "d"), "--addr", "127.0.0.1:0",
		"--tls-cert", filepath.Join(dir, "none.crt"), "--tls-key", filepath.Join(dir, "none.key")}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := serve(context.Background(), cfg, io.Discard, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "none.crt") {
		t.Fatalf("serve with a missing certificate: %v", err)
	}
}
