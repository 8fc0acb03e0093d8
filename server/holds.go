package server

import (
	"errors"
	"net/http"

	"github.com/eventlogdb/eventlog"
)

// holdError maps the hold API's errors to answers: a name in use is 409,
// an unknown one 404; the rest as any storage error.
func holdError(err error) error {
	switch {
	case errors.Is(err, eventlog.ErrHoldExists):
		return errorf(http.StatusConflict, "hold_exists", "%v", err)
	case errors.Is(err, eventlog.ErrHoldNotFound):
		return errorf(http.StatusNotFound, "hold_not_found", "%v", err)
	}
	return writeFailed(err)
}

// handleHoldCreate puts an incident hold on a window (DB.CreateHold):
// POST /api/_holds {"name","filter","start","end","reason"} → 201 the
// hold. The body is decoded strictly; a bad one is 400 naming the
// problem, and nothing is stored.
func (s *Server) handleHoldCreate(w http.ResponseWriter, r *http.Request) error {
	var req eventlog.HoldRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	h, err := s.db.CreateHold(r.Context(), req)
	if err != nil {
		return holdError(err)
	}
	s.log.Info("incident hold created", "remote", r.RemoteAddr, "hold", h.Name)
	return writeValue(w, http.StatusCreated, h)
}

// HoldsAnswer is the answer of GET /api/_holds: the holds, each with the
// events it pins, and what they keep on disk (as of the last retention
// run or plan; nothing without a retention policy, which would keep it
// all anyway).
type HoldsAnswer struct {
	Holds []eventlog.HoldInfo `json:"holds"`
	Cost  eventlog.HoldStats  `json:"cost"`
}

// handleHoldList answers GET /api/_holds.
func (s *Server) handleHoldList(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.db.HoldsWithCounts(r.Context())
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, HoldsAnswer{Holds: hs, Cost: s.db.Stats().Holds})
}

// handleHoldRelease releases a hold: DELETE /api/_holds/{name} → 200 the
// hold released; 404 when there is none of that name.
func (s *Server) handleHoldRelease(w http.ResponseWriter, r *http.Request) error {
	h, err := s.db.ReleaseHold(r.Context(), r.PathValue("name"))
	if err != nil {
		return holdError(err)
	}
	s.log.Info("incident hold released", "remote", r.RemoteAddr, "hold", h.Name)
	return writeValue(w, http.StatusOK, h)
}
