package server

import (
	"mime"
	"net/http"
	"strings"
	"time"
)

// An ingest request passes these checks before its events are decoded: its
// media type, then its body is read (upload.go: within the body limit, the
// in-flight body budget and the rate floor), and only then does it take a
// write slot, so a slow upload holds memory it was granted but no slot.

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

// restartWriteDeadline gives the rest of a request RequestTimeout from now,
// once its body is read: ReadTimeout bounds the upload, so a slow one does
// not leave too little time to answer after its events are stored.
func (s *Server) restartWriteDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
}
