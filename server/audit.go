package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
)

// The server records in the store what was done to its access and its
// data, as events of provider eventlog.InternalProvider ("eventlog"): who
// (user.id and user.name: the key's id and name), from where (source.ip),
// what (event.action, message, labels) and the outcome. Only admin and
// auditor keys read them (restrictQuery). Secrets never go in them.

// Actions of the audit events of keys (also recorded by eventlog keys on
// a stopped store).
const (
	ActionKeyCreate = "api-key-create"
	ActionKeyRevoke = "api-key-revoke"
)

// Actions of the server's other audit events.
const (
	actionAuthFailure       = "authentication-failure"
	actionDeleteRequest     = "delete-by-query-request"
	actionRetentionRun      = "retention-run"
	actionDestinationPut    = "destination-put"
	actionDestinationDelete = "destination-delete"
	actionBackup            = "backup"
	actionHoldCreate        = "hold-create-request"
	actionHoldRelease       = "hold-release-request"
)

// auditEvent is an audit event of action by key k (nil: no key) from the
// remote address addr.
func auditEvent(now time.Time, action, outcome string, k *auth.Key, addr, msg string) eventlog.Event {
	var ev eventlog.Event
	ev.Timestamp = event.DateOf(now)
	ev.Event.Provider, ev.Event.Action, ev.Event.Outcome = eventlog.InternalProvider, action, outcome
	ev.Event.Kind = "event"
	ev.Message = msg
	if k != nil {
		ev.User.ID, ev.User.Name = k.ID, k.Name
	}
	if ip := remoteHost(addr); net.ParseIP(ip) != nil {
		ev.Source.IP = ip
	}
	return ev
}

// record stores audit events, when the server authenticates (Config.Keys):
// a failure is logged, never the caller's error, which has happened
// already. The request's end does not cut the write short.
func (s *Server) record(ctx context.Context, evs ...eventlog.Event) {
	if s.keys == nil || len(evs) == 0 {
		return
	}
	if s.cfg.Node != nil { // a node's store takes no events: the log keeps them
		for _, ev := range evs {
			s.log.Info("audit event (read-only node: not stored)", "action", ev.Event.Action, "outcome", ev.Event.Outcome, "message", ev.Message)
		}
		return
	}
	if _, err := s.db.AppendInternal(context.WithoutCancel(ctx), evs...); err != nil {
		s.log.Error("audit events not stored", "action", evs[0].Event.Action, "events", len(evs), "error", err)
	}
}

// auditRoute records a call of a route whose rule names an audit action:
// the method and path, the answer's status and its outcome.
func (s *Server) auditRoute(r *http.Request, rec *recorder, action string, err error) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	outcome := "success"
	if err != nil || status >= 300 {
		outcome = "failure"
	}
	ev := auditEvent(time.Now(), action, outcome, rec.key, r.RemoteAddr,
		fmt.Sprintf("%s %s answered %d", r.Method, r.URL.Path, status))
	ev.Labels = map[string]string{"status": strconv.Itoa(status)}
	if name := r.PathValue("name"); name != "" {
		what := "destination"
		if strings.HasPrefix(r.URL.Path, "/api/_holds/") {
			what = "hold"
		}
		ev.Labels[what] = name
	}
	s.record(r.Context(), ev)
}

// maxFailureSources bounds the (key id, address) pairs counted in one
// window: past it, refusals are counted together, so that a flood of
// made-up ids from many addresses writes one event, not one each.
const maxFailureSources = 1000

// maxClaimedID bounds the claimed key id an audit event repeats.
const maxClaimedID = 64

// failureLog counts refused credentials per claimed key id and source
// address until the next flush turns each pair into one audit event.
type failureLog struct {
	mu       sync.Mutex
	since    time.Time
	counts   map[failureSource]*failureCount
	overflow failureCount
}

type failureSource struct{ keyID, addr string }

type failureCount struct {
	n       int
	reasons map[string]int
}

func (c *failureCount) add(reason string) {
	if c.reasons == nil {
		c.reasons = map[string]int{}
	}
	c.n++
	c.reasons[reason]++
}

// noteFailure counts a refused request: the key id it claimed (empty when
// it named none), its address and why.
func (s *Server) noteFailure(id []byte, addr string, err error, now time.Time) {
	reason := auth.Reason(err)
	s.metrics.auth.failures.WithLabelValues(reason).Inc()
	src := failureSource{keyID: s.claimedID(id), addr: remoteHost(addr)}
	f := &s.failures
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts, f.since = map[failureSource]*failureCount{}, now
	}
	c := f.counts[src]
	if c == nil {
		if len(f.counts) >= maxFailureSources {
			f.overflow.add(reason)
			return
		}
		c = &failureCount{}
		f.counts[src] = c
	}
	c.add(reason)
}

// claimedID is the key id a refused request claimed, as its audit event
// may repeat it: only the id of a key the store holds. Anything else
// could be a secret sent in the wrong place, or noise made up to fill
// the audit trail.
func (s *Server) claimedID(id []byte) string {
	switch {
	case len(id) == 0:
		return ""
	case len(id) > maxClaimedID:
		return "(unknown)"
	}
	if k, ok := s.keys.Get(string(id)); ok {
		return k.ID
	}
	return "(unknown)"
}

// flushFailures turns the counted refusals into audit events, one per
// (key id, address) and one for the overflow, and starts a new window.
func (s *Server) flushFailures(ctx context.Context, now time.Time) {
	f := &s.failures
	f.mu.Lock()
	counts, overflow, since := f.counts, f.overflow, f.since
	f.counts, f.overflow = nil, failureCount{}
	f.mu.Unlock()
	var evs []eventlog.Event
	for src, c := range counts {
		var k *auth.Key
		if known, ok := s.keys.Get(src.keyID); ok {
			k = &known
		}
		ev := auditEvent(now, actionAuthFailure, "failure", k, src.addr,
			fmt.Sprintf("%d requests refused (%s) since %s", c.n, reasonList(c.reasons), since.UTC().Format(time.RFC3339)))
		ev.Labels = map[string]string{"count": strconv.Itoa(c.n), "reasons": reasonList(c.reasons), "key_id": src.keyID}
		evs = append(evs, ev)
	}
	if overflow.n > 0 {
		ev := auditEvent(now, actionAuthFailure, "failure", nil, "",
			fmt.Sprintf("%d more requests refused (%s) from more than %d key ids and addresses since %s",
				overflow.n, reasonList(overflow.reasons), maxFailureSources, since.UTC().Format(time.RFC3339)))
		ev.Labels = map[string]string{"count": strconv.Itoa(overflow.n), "reasons": reasonList(overflow.reasons)}
		evs = append(evs, ev)
	}
	s.record(ctx, evs...)
}

// reasonList is "expired:1,wrong_secret:3", sorted.
func reasonList(reasons map[string]int) string {
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, r+":"+strconv.Itoa(n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// auditLoop flushes refused credentials and the keys' last use every
// Config.AuditFlushInterval, and once more when ctx ends. Run owns it.
func (s *Server) auditLoop(ctx context.Context) {
	if s.keys == nil {
		return
	}
	t := time.NewTicker(s.cfg.AuditFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.flushAudit(context.Background(), time.Now())
			return
		case now := <-t.C:
			s.flushAudit(ctx, now)
		}
	}
}

// flushAudit writes the counted refusals and the keys' last use.
func (s *Server) flushAudit(ctx context.Context, now time.Time) {
	s.flushFailures(ctx, now)
	if err := s.keys.FlushLastUsed(); err != nil {
		s.log.Error("keys' last use not written", "error", err)
	}
}
