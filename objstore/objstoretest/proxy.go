package objstoretest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy forwards requests to a server, answering some with a fault
// instead (an S3 503 SlowDown or 500 InternalError, chosen by Fail) or
// holding them first (Delay).
type Proxy struct {
	srv *httptest.Server

	mu sync.Mutex
	// fail decides, per request, the status to answer instead of
	// forwarding (0: forward).
	fail func(r *http.Request) int
	// faults counts the requests answered with a fault.
	faults int
	// delay decides, per request, how long to hold it before anything
	// else (a slow server).
	delay func(r *http.Request) time.Duration
}

// NewProxy starts a proxy to the server at addr (host:port), closed at
// the end of the test.
func NewProxy(t testing.TB, addr string) *Proxy {
	p := &Proxy{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := p.delayOf(r); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return // the client gave up
			}
		}
		if code := p.decide(r); code != 0 {
			writeS3Error(w, code)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// Fail sets the fault rule (nil: forward everything).
func (p *Proxy) Fail(rule func(r *http.Request) int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = rule
}

// Delay sets the slowness rule (nil: none).
func (p *Proxy) Delay(rule func(r *http.Request) time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = rule
}

func (p *Proxy) delayOf(r *http.Request) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.delay == nil {
		return 0
	}
	return p.delay(r)
}

// Faults is how many requests were answered with a fault.
func (p *Proxy) Faults() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

func (p *Proxy) decide(r *http.Request) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail == nil {
		return 0
	}
	code := p.fail(r)
	if code != 0 {
		p.faults++
	}
	return code
}

// writeS3Error answers an S3 error document for code.
func writeS3Error(w http.ResponseWriter, code int) {
	name := "InternalError"
	if code == http.StatusServiceUnavailable {
		name = "SlowDown"
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + name +
		`</Code><Message>injected fault</Message></Error>`))
}
