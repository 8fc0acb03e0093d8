// Package tlsfiles serves TLS from certificate files that change while the
// server runs: a Reloader holds the pair (and the client CA of mutual TLS)
// last loaded, hands it to every new handshake, and replaces it when the
// files' contents change or when asked (SIGHUP).
//
// Changes are found by polling a SHA-256 of the files' contents, not by
// file-system notifications: Kubernetes updates a mounted secret by
// swapping a symlink to a new directory, which watches on the files miss.
// A new set is loaded and checked whole before it replaces the old one:
// the key must match the certificate, the certificate must be within its
// validity period and the client CA file must hold a certificate. A set
// that fails — a certificate written before its key, say — is logged and
// the old pair keeps serving, so a half-finished rotation never takes the
// server down. Connections already open keep their session: only new
// handshakes see the new pair.
package tlsfiles

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Files names the files a server's TLS comes from.
type Files struct {
	// Cert and Key are PEM files: the server's certificate chain (leaf
	// first) and its private key.
	Cert, Key string
	// ClientCA, when set, is a PEM file of the CA certificates that sign
	// client certificates: every client must then present one (mutual
	// TLS). Empty: clients are not asked for a certificate.
	ClientCA string
}

// Reloader holds the TLS configuration loaded from Files. It is safe for
// concurrent use.
type Reloader struct {
	files Files
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex // serialises Reload
	cur     atomic.Pointer[loaded]
	lastBad [sha256.Size]byte // contents last refused, logged once
}

// loaded is one accepted set of files.
type loaded struct {
	cfg *tls.Config
	sum [sha256.Size]byte
}

// New loads files and returns their Reloader, or an error naming the file
// that is missing or wrong. A nil log discards.
func New(files Files, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{files: files, log: log, now: time.Now}
	raw, err := r.read()
	if err != nil {
		return nil, err
	}
	l, err := r.load(raw)
	if err != nil {
		return nil, err
	}
	r.cur.Store(l)
	return r, nil
}

// Config returns the configuration to serve with (tls.NewListener): TLS
// 1.2 or later, Go's default cipher suites, and for each handshake the
// pair (and client CAs) loaded last.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.cur.Load().cfg, nil
		},
	}
}

// Certificate returns the leaf certificate served now.
func (r *Reloader) Certificate() *x509.Certificate {
	return r.cur.Load().cfg.Certificates[0].Leaf
}

// Reload reads the files again and, if their contents changed, checks and
// serves them. It reports whether the pair served changed; on an error the
// old pair keeps serving.
func (r *Reloader) Reload() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	raw, err := r.read()
	if err != nil {
		return false, err
	}
	if raw.sum == r.cur.Load().sum {
		return false, nil
	}
	l, err := r.load(raw)
	if err != nil {
		return false, err
	}
	r.cur.Store(l)
	return true, nil
}

// Run reloads every interval and whenever hup receives, until ctx is done,
// logging each change and each refused set (once per distinct contents,
// so a broken rotation does not flood the log).
func (r *Reloader) Run(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		asked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-hup:
			asked = true
		}
		r.reloadLogged(asked)
	}
}

func (r *Reloader) reloadLogged(asked bool) {
	changed, err := r.Reload()
	switch {
	case err != nil:
		var bad *badFilesError
		if errors.As(err, &bad) && !asked {
			r.mu.Lock()
			seen := bad.sum == r.lastBad
			r.lastBad = bad.sum
			r.mu.Unlock()
			if seen {
				return
			}
		}
		r.log.Error("tls: keeping the certificate served so far", "err", err)
	case changed:
		c := r.Certificate()
		r.log.Info("tls: serving a new certificate", "subject", c.Subject.String(), "not_after", c.NotAfter.UTC().Format(time.RFC3339))
	case asked:
		r.log.Info("tls: files unchanged", "cert", r.files.Cert)
	}
}

// contents are the files' bytes and a hash over all of them.
type contents struct {
	cert, key, clientCA []byte
	sum                 [sha256.Size]byte
}

func (r *Reloader) read() (contents, error) {
	var c contents
	var err error
	if c.cert, err = os.ReadFile(r.files.Cert); err != nil {
		return c, fmt.Errorf("tls certificate: %w", err)
	}
	if c.key, err = os.ReadFile(r.files.Key); err != nil {
		return c, fmt.Errorf("tls key: %w", err)
	}
	if r.files.ClientCA != "" {
		if c.clientCA, err = os.ReadFile(r.files.ClientCA); err != nil {
			return c, fmt.Errorf("tls client CA: %w", err)
		}
	}
	h := sha256.New()
	for _, b := range [][]byte{c.cert, c.key, c.clientCA} {
		fmt.Fprintf(h, "%d:", len(b)) // lengths keep the parts apart
		h.Write(b)
	}
	h.Sum(c.sum[:0])
	return c, nil
}

// badFilesError is a set of files that was read but refused.
type badFilesError struct {
	sum [sha256.Size]byte
	err error
}

func (e *badFilesError) Error() string { return e.err.Error() }
func (e *badFilesError) Unwrap() error { return e.err }

// load checks raw and builds the configuration it stands for.
func (r *Reloader) load(raw contents) (*loaded, error) {
	bad := func(err error) (*loaded, error) { return nil, &badFilesError{sum: raw.sum, err: err} }
	pair, err := tls.X509KeyPair(raw.cert, raw.key)
	if err != nil {
		return bad(fmt.Errorf("tls: %s and %s: %w", r.files.Cert, r.files.Key, err))
	}
	leaf := pair.Leaf // parsed by X509KeyPair since Go 1.23
	if now := r.now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return bad(fmt.Errorf("tls: %s is valid from %s to %s, not now", r.files.Cert,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if r.files.ClientCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(raw.clientCA) {
			return bad(fmt.Errorf("tls: client CA %s holds no PEM certificate", r.files.ClientCA))
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return &loaded{cfg: cfg, sum: raw.sum}, nil
}
