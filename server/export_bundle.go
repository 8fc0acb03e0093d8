package server

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/query"
)

// Evidence bundles over HTTP: [/s/{space}]/api/events/_export?bundle=true
// answers the events the query selects as a tar file (integrity.BundleWriter:
// README, public key, signed head, a proof per event), what `eventlog
// export --bundle` writes. Export's rules apply (the space, the key's view
// of internal events), and more: a bundle's head shows the tree's size,
// which a key scoped to spaces never learns (as with /api/_integrity), so
// it needs an admin or auditor key that is not scoped.

// maxBundleEvents bounds a bundle: its proofs are gathered before the
// first byte is sent, so that a failure is a clean error, not a cut tar.
const maxBundleEvents = 100_000

// bundleAllowed refuses a bundle to a key that may not see the tree's size.
func bundleAllowed(k *auth.Key) error {
	switch {
	case k == nil: // the server does not authenticate
		return nil
	case !k.Role.Allows(auth.Auditor):
		return errorf(http.StatusForbidden, typeForbidden, "bundle=true needs the admin or auditor role (its signed head shows the tree's size); key %s has the %s role", k.ID, k.Role)
	case k.Scoped():
		return errorf(http.StatusForbidden, typeForbidden, "bundle=true answers with the whole tree's signed head; key %s is scoped to spaces", k.ID)
	}
	return nil
}

// exportBundle answers req's events as an evidence bundle proven against
// the latest signed head.
func (s *Server) exportBundle(w http.ResponseWriter, r *http.Request, req query.Request) error {
	if err := bundleAllowed(keyOf(w)); err != nil {
		return err
	}
	l, err := s.integrityLog()
	if err != nil {
		return err
	}
	head, ok := l.LatestHead()
	if !ok {
		return errorf(http.StatusConflict, typeConflict, "no tree head is signed yet (POST /api/_integrity/head)")
	}
	var docs []integrity.ProofDoc
	err = s.db.Export(r.Context(), req, func(h query.Hit) error {
		if len(docs) == maxBundleEvents {
			return errorf(http.StatusRequestEntityTooLarge, typeTooLarge, "a bundle holds at most %d events; narrow the filter or the time range", maxBundleEvents)
		}
		id := eventlog.IDOf(h.Seq)
		notCovered := errorf(http.StatusConflict, typeConflict, "event %s is not in the tree of the latest signed head (size %d): sign a newer head (POST /api/_integrity/head) or end the range earlier", id, head.Size)
		idx, ok, err := l.LeafIndex(h.Seq)
		if err != nil {
			return err
		}
		if !ok || idx >= head.Size { // no leaf yet, or a leaf the head does not cover
			return notCovered
		}
		p, err := s.db.ProveEvent(id, head.Size)
		if errors.Is(err, eventlog.ErrNoEvent) {
			return notCovered
		}
		if err != nil {
			return err
		}
		docs = append(docs, integrity.NewProofDoc(p.ID, &p.Event, p.Proof, nil))
		return nil
	})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	bw, err := integrity.NewBundleWriter(&buf, l.PublicKey(), head, time.Now())
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := bw.Add(d); err != nil {
			return err
		}
	}
	if err := bw.Close(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="evidence.tar"`)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}
