package server

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/integrity"
)

// The Merkle tree's routes (issue 19): signed heads, consistency and
// inclusion proofs, for admins and auditors with store-wide keys only, so
// a key scoped to spaces never learns the tree's size.

// integrityLog returns the store's tree, or a 404 when it is off.
func (s *Server) integrityLog() (*integrity.Log, error) {
	l, err := s.db.Integrity()
	if err != nil {
		return nil, errorf(http.StatusNotFound, typeNotFound, "the Merkle tree is off on this server (serve --integrity)")
	}
	return l, nil
}

// handleHead answers the latest signed head (404 before the first).
func (s *Server) handleHead(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), nil); err != nil {
		return err
	}
	l, err := s.integrityLog()
	if err != nil {
		return err
	}
	h, ok := l.LatestHead()
	if !ok {
		return errorf(http.StatusNotFound, typeNotFound, "no tree head is signed yet")
	}
	return writeValue(w, http.StatusOK, h)
}

// handleSignHead signs a head over every durable event now.
func (s *Server) handleSignHead(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), nil); err != nil {
		return err
	}
	if _, err := s.integrityLog(); err != nil {
		return err
	}
	h, err := s.db.SignHead()
	if err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, h)
}

// handleHeads answers the stored heads whose size is in [from, to].
func (s *Server) handleHeads(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, []string{"from", "to"}); err != nil {
		return err
	}
	from, err := sizeParam(q, "from", 0)
	if err != nil {
		return err
	}
	to, err := sizeParam(q, "to", 0)
	if err != nil {
		return err
	}
	l, err := s.integrityLog()
	if err != nil {
		return err
	}
	heads := l.Heads(from, to)
	if heads == nil {
		heads = []integrity.SignedHead{}
	}
	return writeValue(w, http.StatusOK, map[string]any{"heads": heads})
}

// handleConsistency answers the consistency proof between two sizes.
func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, []string{"from_size", "to_size"}); err != nil {
		return err
	}
	from, err := sizeParam(q, "from_size", -1)
	if err != nil {
		return err
	}
	to, err := sizeParam(q, "to_size", -1)
	if err != nil {
		return err
	}
	l, err := s.integrityLog()
	if err != nil {
		return err
	}
	if from > to || to > l.Size() {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "from_size %d and to_size %d: want from_size <= to_size <= the tree's size", from, to)
	}
	hs, err := l.Consistency(from, to)
	if err != nil {
		return unprovableConflict(err)
	}
	return writeValue(w, http.StatusOK, map[string]any{"from_size": from, "to_size": to, "hashes": hexHashes(hs)})
}

// handleProof answers an event's inclusion proof. An id the store does
// not hold (or has no leaf for) is 404, like any missing id.
func (s *Server) handleProof(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, []string{"tree_size"}); err != nil {
		return err
	}
	size, err := sizeParam(q, "tree_size", 0)
	if err != nil {
		return err
	}
	if _, err := s.integrityLog(); err != nil {
		return err
	}
	id := r.PathValue("id")
	p, err := s.db.ProveEvent(id, size)
	if errors.Is(err, eventlog.ErrNoEvent) {
		return errorf(http.StatusNotFound, typeNotFound, "no event %q", id)
	}
	if err != nil {
		return unprovableConflict(err)
	}
	return writeValue(w, http.StatusOK, integrity.NewProofDoc(p.ID, &p.Event, p.Proof, p.Head))
}

// unprovableConflict answers 409 for a proof the store can no longer
// make: one that needs hashes inside a range compacted as wholly erased
// (a tree size inside it, which no stored head has), or leaves of a
// sealed tile whose events are not all stored any more (a repair lost
// one). Neither is the server failing; the request asks for what the
// store, by design or after a recorded loss, no longer holds.
func unprovableConflict(err error) error {
	switch {
	case errors.Is(err, integrity.ErrCompacted):
		return errorf(http.StatusConflict, typeConflict, "%v: ask for a stored head's size", err)
	case errors.Is(err, integrity.ErrSealedTile):
		return errorf(http.StatusConflict, typeConflict, "%v: eventlog verify --chain lists the positions that can no longer be proved", err)
	}
	return err
}

func hexHashes(hs []integrity.Hash) []string {
	out := make([]string, len(hs))
	for i := range hs {
		out[i] = hex.EncodeToString(hs[i][:])
	}
	return out
}

// sizeParam reads a tree size; absent is def, or an error if def < 0.
func sizeParam(q url.Values, name string, def int64) (uint64, error) {
	v := q.Get(name)
	if v == "" {
		if def < 0 {
			return 0, errorf(http.StatusBadRequest, typeInvalidRequest, "query parameter %q is required", name)
		}
		return uint64(def), nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, typeInvalidRequest, "%s %q: want a tree size (a whole number)", name, v)
	}
	return n, nil
}
