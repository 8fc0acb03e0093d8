package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// An ingest request passes these checks before its events are decoded: its
// media type, a write slot, and the body limit.

// requireMediaType answers 415 unless the request's Content-Type is one of
// types.
func requireMediaType(r *http.Request, types ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, t := range types {
			if strings.EqualFold(mt, t) {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return errorf(http.StatusUnsupportedMediaType, typeUnsupportedMedia,
		"Content-Type %s is not accepted here; send %s", ct, strings.Join(types, " or "))
}

// acquireWrite takes a write slot, waiting at most WriteQueueTimeout:
// past it the request is answered 429 with Retry-After.
func (s *Server) acquireWrite(w http.ResponseWriter, r *http.Request) error {
	select {
	case s.writeSlots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.cfg.WriteQueueTimeout)
	defer t.Stop()
	select {
	case s.writeSlots <- struct{}{}:
		return nil
	case <-t.C:
		w.Header().Set("Retry-After", "1")
		return errorf(http.StatusTooManyRequests, typeOverloaded,
			"all %d write slots stayed busy for %s; retry later", cap(s.writeSlots), s.cfg.WriteQueueTimeout)
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func (s *Server) releaseWrite() { <-s.writeSlots }

// readBody reads the whole body, at most limit bytes (413 past it), into a
// pooled buffer the caller returns with putBuf.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) (*[]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
			"request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit)
	}
	buf := getBuf()
	b := (*buf)[:0]
	if n := int(r.ContentLength) + 1; r.ContentLength > 0 && cap(b) < n {
		b = make([]byte, 0, n) // +1: room for the read that sees EOF
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			putBuf(buf)
			s.metrics.ingestBytes.Add(float64(len(b)))
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "reading the request body: %v", err)
		}
	}
	*buf = b
	s.metrics.ingestBytes.Add(float64(len(b)))
	s.restartWriteDeadline(w)
	return buf, nil
}

// restartWriteDeadline gives the rest of a request RequestTimeout from now,
// once its body is read: ReadTimeout bounds the upload, so a slow one does
// not leave too little time to answer after its events are stored.
func (s *Server) restartWriteDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
}
