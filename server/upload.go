package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Request bodies are read whole into memory before anything else is done
// with them, under three bounds: the route's size limit (413), the total
// memory of bodies in flight (Config.MaxBodyBytesInFlight: wait up to
// WriteQueueTimeout for room, then 429), and a floor on the rate they
// arrive at (Config.MinBodyRate after Config.BodyRateGrace: 408).

// The server keeps bigBodyBuffers buffers of bigBodyMin to bigBodyMax
// bytes for large bodies across garbage collections (see package bigbuf):
// at most 64 MiB idle, enough for the bodies of four concurrent _bulk
// requests of 10,000 events.
const (
	bigBodyBuffers = 4
	bigBodyMin     = 1 << 20
	bigBodyMax     = 16 << 20
)

// firstReservation is what a body of unknown length first takes from the
// budget; each further step doubles what it holds.
const firstReservation = 64 << 10

// upload is a request body read into memory. It holds its bytes of the
// in-flight body budget until release.
type upload struct {
	s    *Server
	buf  *[]byte
	held int64 // bytes taken from s.bodies
	// declared is the body's length as the request declares it, -1 when
	// unknown (chunked, or compressed: see decodedBody).
	declared int64
}

// data returns the body. It is valid until release.
func (u *upload) data() []byte { return *u.buf }

// release returns the buffer to the pool (a large one to the server's
// bigBodies) and the bytes to the budget.
func (u *upload) release() {
	if b := *u.buf; cap(b) >= bigBodyMin {
		u.s.bigBodies.Put(b)
		*u.buf = nil
	}
	putBuf(u.buf)
	u.s.bodies.release(u.held)
	u.held = 0
}

// readIngestBody reads the body of an ingest request (at most
// MaxBulkBytes) as readBody does, counting its bytes in
// eventlog_ingest_request_bytes_total.
func (s *Server) readIngestBody(w http.ResponseWriter, r *http.Request) (*upload, error) {
	return s.readBodyCounted(w, r, s.cfg.MaxBulkBytes, s.metrics.ingestBytes)
}

// readBody reads the whole body, at most limit bytes (413 past it), within
// the body budget and the rate floor. The caller releases the upload.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) (*upload, error) {
	return s.readBodyCounted(w, r, limit, nil)
}

// readBodyCounted is readBody, adding the bytes read to counted if not nil.
func (s *Server) readBodyCounted(w http.ResponseWriter, r *http.Request, limit int64, counted prometheus.Counter) (*upload, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
			"request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit)
	}
	pace := s.newBodyPacer(w, r.Body)
	body, declared, err := decodedBody(r, pace)
	if err != nil {
		return nil, err
	}
	u := &upload{s: s, buf: getBuf(), declared: declared}
	err = u.read(r, http.MaxBytesReader(w, body, limit), limit)
	if counted != nil {
		counted.Add(float64(len(*u.buf)))
	}
	if err != nil {
		u.release()
		return nil, s.bodyError(w, err, pace)
	}
	pace.finished()
	s.restartWriteDeadline(w)
	return u, nil
}

// read reads body into u's buffer, taking budget ahead of the bytes (see
// room).
func (u *upload) read(r *http.Request, body io.Reader, limit int64) error {
	b := (*u.buf)[:0]
	defer func() { *u.buf = b }()
	for {
		room, err := u.room(r, int64(len(b)), limit)
		if err != nil {
			return err
		}
		if int64(cap(b)-len(b)) < room {
			// +1: room for the read that sees EOF, so a body of the declared
			// length is not copied again for it.
			b = u.grow(b, int(room)+1)
		}
		n, err := body.Read(b[len(b) : len(b)+int(room)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// grow returns b with room for n more bytes: when b is still empty and n
// large, a buffer of s.bigBodies (a kept one if one fits, so a body of
// megabytes is not allocated, zeroed and faulted in afresh for every
// request), else b grown.
func (u *upload) grow(b []byte, n int) []byte {
	if len(b) == 0 {
		if big := u.s.bigBodies.Get(n); big != nil {
			return big
		}
	}
	return slices.Grow(b, n)
}

// room returns how many bytes the next read may take, having read have:
// what u holds of the budget beyond them, else the next step taken from the
// budget — the declared length at once when there is one, else 64 KiB and
// then twice what it holds, up to limit. Past the declared length (or the
// limit) a read gets one byte, unbudgeted: it only sees EOF, or tells
// MaxBytesReader that the body is over the limit.
func (u *upload) room(r *http.Request, have, limit int64) (int64, error) {
	if have < u.held {
		return u.held - have, nil
	}
	final := limit
	if u.declared > 0 {
		final = u.declared // readBody checked it is within limit
	}
	if u.held >= final {
		return 1, nil
	}
	want := 2 * u.held
	switch {
	case u.held == 0 && u.declared > 0:
		want = u.declared
	case u.held == 0:
		want = firstReservation
	}
	want = min(want, final)
	if err := u.s.bodies.acquire(r.Context(), want-u.held, u.s.cfg.WriteQueueTimeout); err != nil {
		return 0, err
	}
	u.held = want
	return u.held - have, nil
}

// bodyError maps an error reading a body to its answer.
func (s *Server) bodyError(w http.ResponseWriter, err error, pace *bodyPacer) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, errBudgetFull):
		w.Header().Set("Retry-After", "1")
		return errorf(http.StatusTooManyRequests, typeOverloaded,
			"the request bodies in flight hold the whole budget of %d bytes, and none freed within %s; retry later",
			s.cfg.MaxBodyBytesInFlight, s.cfg.WriteQueueTimeout)
	case errors.Is(err, errMemoryFull):
		return s.memoryFull(w)
	case pace.tooSlow(err):
		w.Header().Set("Connection", "close")
		return errorf(http.StatusRequestTimeout, typeRequestTimeout,
			"the request body arrived slower than the floor of %d bytes/s (%d bytes in %s); send it faster or in smaller requests",
			s.cfg.MinBodyRate, pace.n, time.Since(pace.start).Round(time.Millisecond))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return errorf(http.StatusBadRequest, typeInvalidRequest, "reading the request body: %v", err)
}

// bodyPacer cuts off a body that arrives slower than Config.MinBodyRate:
// once Config.BodyRateGrace has passed, the bytes read must average at
// least that rate since the handler started. It enforces this through the
// connection's read deadline, so a client that sends nothing at all is cut
// off too. Where deadlines are not supported, or the floor is off, it only
// reads.
type bodyPacer struct {
	r     io.ReadCloser
	rc    *http.ResponseController
	rate  int64 // bytes per second; <= 0: no floor
	grace time.Duration
	start time.Time
	until time.Time // the deadline ReadTimeout sets: never extended
	n     int64
	on    bool // deadlines are being set
}

func (s *Server) newBodyPacer(w http.ResponseWriter, r io.ReadCloser) *bodyPacer {
	now := time.Now()
	return &bodyPacer{r: r, rc: http.NewResponseController(w), rate: s.cfg.MinBodyRate,
		grace: s.cfg.BodyRateGrace, start: now, until: now.Add(s.cfg.ReadTimeout), on: s.cfg.MinBodyRate > 0}
}

func (p *bodyPacer) Read(b []byte) (int, error) {
	if p.on && p.rc.SetReadDeadline(p.deadline()) != nil {
		p.on = false // not supported here (a test recorder)
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

// Close closes the body.
func (p *bodyPacer) Close() error { return p.r.Close() }

// deadline is when the next byte must have arrived: when the average rate
// would drop below the floor, and not before the grace period ends.
func (p *bodyPacer) deadline() time.Time {
	need := time.Duration(float64(p.n+1) / float64(p.rate) * float64(time.Second))
	d := p.start.Add(max(p.grace, need))
	if d.After(p.until) {
		return p.until
	}
	return d
}

// tooSlow reports whether err is the pacer's deadline passing.
func (p *bodyPacer) tooSlow(err error) bool {
	return p.on && errors.Is(err, os.ErrDeadlineExceeded)
}

// finished lifts the pacer's deadline once the whole body is read: what
// the handler does next is bounded by RequestTimeout, and the connection's
// next request gets its own read deadlines.
func (p *bodyPacer) finished() {
	if p.on {
		_ = p.rc.SetReadDeadline(time.Time{})
	}
}
