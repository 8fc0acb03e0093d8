package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
)

// Every read route applies its key's scope here, so that no answer holds
// (or counts) an event the key may not see: restrictQuery for the query
// routes (find, search, aggregate, export), restrictTail for _tail, and
// appendShown for every document sent.

// notInternal is the filter that hides the store's own audit events from
// keys whose role may not read them (auth.Role.SeesAudit).
const notInternal = "not event.provider:" + eventlog.InternalProvider

// restrictQuery limits req to what k may see: events in one of its spaces
// (query.Request.Spaces), and not the store's own events unless its role
// may read them. A nil k (no authentication) sees everything.
func restrictQuery(k *auth.Key, req *query.Request) error {
	if k == nil {
		return nil
	}
	if k.Scoped() {
		req.Spaces = k.Spaces
		if err := scopedAggs(k, req.Aggs); err != nil {
			return err
		}
	}
	if k.Role.SeesAudit() {
		return nil
	}
	f, err := andFilter(req.Filter, notInternal)
	if err != nil {
		return err
	}
	req.Filter = f
	return nil
}

// scopedAggs refuses to a scoped key the terms of kibana.space_ids, whose
// buckets would name the other spaces an in-scope event lists. (Terms of
// references are not aggregatable at all.)
func scopedAggs(k *auth.Key, aggs map[string]query.Agg) error {
	for name, a := range aggs {
		if a.Terms != nil && a.Terms.Field == "kibana.space_ids" {
			return errorf(http.StatusForbidden, typeForbidden,
				"aggregation %q: terms of %s would name spaces outside the scope of key %s (spaces %s)",
				name, a.Terms.Field, k.ID, strings.Join(k.Spaces, ", "))
		}
		if err := scopedAggs(k, a.Aggs); err != nil {
			return err
		}
	}
	return nil
}

// restrictTail is restrictQuery for a tail's filter, which has no Spaces:
// the key's spaces become a filter (inSpaceFilter) too.
func restrictTail(k *auth.Key, f string) (string, error) {
	if k == nil {
		return f, nil
	}
	var conds []string
	if k.Scoped() {
		anyOf := make([]string, len(k.Spaces))
		for i, sp := range k.Spaces {
			anyOf[i] = "(" + inSpaceFilter("", sp) + ")"
		}
		conds = append(conds, strings.Join(anyOf, " or "))
	}
	if !k.Role.SeesAudit() {
		conds = append(conds, notInternal)
	}
	if len(conds) == 0 {
		return f, nil
	}
	return andFilter(f, strings.Join(conds, " and "))
}

// andFilter returns the KQL filter "f and cond". f is parsed first, so
// that an error in it is reported at the user's positions.
func andFilter(f, cond string) (string, error) {
	if strings.TrimSpace(f) == "" {
		return cond, nil
	}
	if _, err := filter.Parse(f); err != nil {
		return "", fmt.Errorf("%w: %w", eventlog.ErrInvalidRequest, err)
	}
	return "(" + f + ") and (" + cond + ")", nil
}

// appendShown appends the document of ev as key k may see it: without
// its saved-object references in spaces outside k's scope.
func appendShown(dst []byte, k *auth.Key, seq uint64, ev *event.Event) []byte {
	if k != nil && k.Scoped() {
		ev = k.Shown(ev)
	}
	return eventlog.AppendDocument(dst, seq, ev)
}

// errOutOfScope marks an event a scoped writer may not store.
var errOutOfScope = errors.New("outside the key's scope")

// scopeError says why k may not store ev: which of its spaces are out of
// scope.
func scopeError(k *auth.Key, ev *event.Event) error {
	var out []string
	for _, sp := range ev.Spaces(nil) {
		if !k.InScope(sp) {
			out = append(out, sp)
		}
	}
	return fmt.Errorf("%w: the event is in space %s; key %s may write only in %s",
		errOutOfScope, strings.Join(out, ", "), k.ID, strings.Join(k.Spaces, ", "))
}

// checkScope sets errs[i] for each decoded event (errs[i] nil) that key
// k may not store; a nil k may store anything.
func checkScope(k *auth.Key, events []event.Event, errs []error) {
	if k == nil || !k.Scoped() {
		return
	}
	for i := range events {
		if errs[i] == nil && !k.MayWrite(&events[i]) {
			errs[i] = scopeError(k, &events[i])
		}
	}
}

// forbiddenItem is the error of an event out of the writer's scope.
func forbiddenItem(err error) (itemError, bool) {
	if !errors.Is(err, errOutOfScope) {
		return itemError{}, false
	}
	return itemError{status: http.StatusForbidden, typ: typeForbidden, reason: err.Error()}, true
}
