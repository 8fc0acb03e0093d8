package auth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/time/rate"
)

// Limit is how fast one key may go: requests per second and bytes of
// ingested bodies per second. Zero (or less) in a field: no limit.
type Limit struct {
	Requests float64
	Bytes    float64
}

// Limits configure the rate limits: by key id first, then by role. A key
// named in neither is not limited.
type Limits struct {
	ByRole map[Role]Limit
	ByKey  map[string]Limit
}

// ParseLimit parses one --rate-limit rule: WHO=REQUESTS[,BYTES], WHO a
// role name or a key id, REQUESTS a number per second ("50" or "50/s"),
// BYTES a size per second ("10MiB" or "10MiB/s"), either empty for no
// limit. It adds the rule to l.
func (l *Limits) ParseLimit(rule string) error {
	who, spec, ok := strings.Cut(rule, "=")
	if !ok || who == "" {
		return fmt.Errorf("rate limit %q: want WHO=REQUESTS[,BYTES] (WHO a role or a key id), e.g. reader=50/s or writer=200/s,10MiB/s", rule)
	}
	reqs, bytes, _ := strings.Cut(spec, ",")
	var lim Limit
	if v := strings.TrimSuffix(strings.TrimSpace(reqs), "/s"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return fmt.Errorf("rate limit %q: requests %q: want a positive number per second, e.g. 50/s", rule, reqs)
		}
		lim.Requests = n
	}
	if v := strings.TrimSuffix(strings.TrimSpace(bytes), "/s"); v != "" {
		n, err := humanize.ParseBytes(v)
		if err != nil || n == 0 {
			return fmt.Errorf("rate limit %q: bytes %q: want a size per second, e.g. 10MiB/s", rule, bytes)
		}
		lim.Bytes = float64(n)
	}
	if r, err := ParseRole(who); err == nil {
		if l.ByRole == nil {
			l.ByRole = map[Role]Limit{}
		}
		l.ByRole[r] = lim
		return nil
	}
	if l.ByKey == nil {
		l.ByKey = map[string]Limit{}
	}
	l.ByKey[who] = lim
	return nil
}

// limitFor returns the limit of k.
func (l *Limits) limitFor(k *Key) (Limit, bool) {
	if lim, ok := l.ByKey[k.ID]; ok {
		return lim, true
	}
	lim, ok := l.ByRole[k.Role]
	return lim, ok
}

// Limiter applies Limits: one pair of token buckets
// (golang.org/x/time/rate) per key, made on first use. Safe for
// concurrent use.
type Limiter struct {
	limits   Limits
	minBurst int
	mu       sync.RWMutex
	buckets  map[string]*buckets
}

// buckets are a key's limiters; a nil one is no limit.
type buckets struct {
	requests, bytes *rate.Limiter
}

// NewLimiter returns a limiter of limits. maxBody is the largest body a
// request may carry: the byte bucket holds at least that much, so that
// any admissible body can pass once the bucket is full.
func NewLimiter(limits Limits, maxBody int64) *Limiter {
	return &Limiter{limits: limits, minBurst: int(min(maxBody, math.MaxInt32)), buckets: map[string]*buckets{}}
}

// Enabled reports whether any limit is configured.
func (l *Limiter) Enabled() bool {
	return l != nil && (len(l.limits.ByKey) > 0 || len(l.limits.ByRole) > 0)
}

func (l *Limiter) bucketsOf(k *Key) *buckets {
	l.mu.RLock()
	b := l.buckets[k.ID]
	l.mu.RUnlock()
	if b != nil {
		return b
	}
	lim, _ := l.limitFor(k)
	b = &buckets{}
	if lim.Requests > 0 {
		b.requests = rate.NewLimiter(rate.Limit(lim.Requests), max(1, int(math.Ceil(lim.Requests))))
	}
	if lim.Bytes > 0 {
		b.bytes = rate.NewLimiter(rate.Limit(lim.Bytes), max(l.minBurst, int(min(lim.Bytes, math.MaxInt32))))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if have := l.buckets[k.ID]; have != nil {
		return have
	}
	l.buckets[k.ID] = b
	return b
}

func (l *Limiter) limitFor(k *Key) (Limit, bool) { return l.limits.limitFor(k) }

// AllowRequest takes one request from k's bucket at now. When it is empty
// it returns false and how long until a request would pass (for
// Retry-After).
func (l *Limiter) AllowRequest(k *Key, now time.Time) (bool, time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	return allow(l.bucketsOf(k).requests, now, 1)
}

// AllowBytes takes n ingested bytes from k's bucket at now; as
// AllowRequest.
func (l *Limiter) AllowBytes(k *Key, now time.Time, n int) (bool, time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	return allow(l.bucketsOf(k).bytes, now, n)
}

// allow takes n tokens from b, or says how long until they are there.
func allow(b *rate.Limiter, now time.Time, n int) (bool, time.Duration) {
	if b == nil || b.AllowN(now, n) {
		return true, 0
	}
	n = min(n, b.Burst())
	missing := float64(n) - b.TokensAt(now)
	return false, time.Duration(math.Ceil(missing / float64(b.Limit()) * float64(time.Second)))
}
