package server

import (
	"errors"
	"net/http"

	"github.com/eventlogdb/eventlog/destination"
)

// typeFixed is the error type of a change to a destination of the config
// file.
const typeFixed = "fixed"

// destinations returns the server's destination manager, or the 404 of a
// server without one.
func (s *Server) destinations() (*destination.Manager, error) {
	if s.cfg.Destinations == nil {
		return nil, errorf(http.StatusNotFound, typeNotFound, "destinations are not enabled on this server")
	}
	return s.cfg.Destinations, nil
}

// destinationError maps the manager's errors to their answers.
func destinationError(err error) error {
	switch {
	case errors.Is(err, destination.ErrNotFound):
		return errorf(http.StatusNotFound, typeNotFound, "%v", err)
	case errors.Is(err, destination.ErrFixed):
		return errorf(http.StatusConflict, typeFixed, "%v: change it there and restart the server", err)
	case errors.Is(err, destination.ErrInvalid):
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%v", err)
	}
	return err
}

// handleDestinationPut creates or replaces a destination: PUT
// /api/destinations/{name} with a destination.Config body (its name may be
// left out) → 200 with its Status. A replaced destination keeps its
// cursor.
func (s *Server) handleDestinationPut(w http.ResponseWriter, r *http.Request) error {
	m, err := s.destinations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	var c destination.Config
	if err := s.readDestination(w, r, &c); err != nil {
		return err
	}
	switch {
	case c.Name == "":
		c.Name = name
	case c.Name != name:
		return errorf(http.StatusBadRequest, typeInvalidRequest, "the body names destination %q, the path %q", c.Name, name)
	}
	st, err := m.Put(c)
	if err != nil {
		return destinationError(err)
	}
	return writeValue(w, http.StatusOK, st)
}

// readDestination reads a Config body, strictly (an unknown field is an
// error).
func (s *Server) readDestination(w http.ResponseWriter, r *http.Request, c *destination.Config) error {
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	body, err := s.readBody(w, r, s.cfg.MaxEventBytes)
	if err != nil {
		return err
	}
	defer body.release()
	if err := decodeStrict(body.data(), c); err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "body: %v", err)
	}
	return nil
}

// handleDestinationList answers every destination's status: GET
// /api/destinations → {"destinations":[...]}, by name.
func (s *Server) handleDestinationList(w http.ResponseWriter, r *http.Request) error {
	m, err := s.destinations()
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, struct {
		Destinations []destination.Status `json:"destinations"`
	}{m.List()})
}

// handleDestinationGet answers a destination's status (never its
// secret): GET /api/destinations/{name}.
func (s *Server) handleDestinationGet(w http.ResponseWriter, r *http.Request) error {
	m, err := s.destinations()
	if err != nil {
		return err
	}
	st, err := m.Get(r.PathValue("name"))
	if err != nil {
		return destinationError(err)
	}
	return writeValue(w, http.StatusOK, st)
}

// handleDestinationDelete stops a destination created through the API and
// forgets it: DELETE /api/destinations/{name} → {"deleted":NAME}.
func (s *Server) handleDestinationDelete(w http.ResponseWriter, r *http.Request) error {
	m, err := s.destinations()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := m.Delete(name); err != nil {
		return destinationError(err)
	}
	return writeValue(w, http.StatusOK, map[string]string{"deleted": name})
}

// handleDestinationResume restarts a parked destination with the batch it
// stopped at: POST /api/destinations/{name}/_resume → its Status.
func (s *Server) handleDestinationResume(w http.ResponseWriter, r *http.Request) error {
	m, err := s.destinations()
	if err != nil {
		return err
	}
	st, err := m.Resume(r.PathValue("name"))
	if err != nil {
		return destinationError(err)
	}
	return writeValue(w, http.StatusOK, st)
}
