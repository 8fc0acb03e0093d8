package eventlog

import (
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/retention"
)

// retentionPeriods applies the retention periods: the default (RetentionMaxAge),
// the spaces' (RetentionSpaceMaxAge) and the rules, compiled once at Open.
type retentionPeriods struct {
	defaultAge time.Duration
	rules      []compiledRule
	spaces     map[string]time.Duration
	fields     []*event.Field // what the rules' filters and the spaces read
}

type compiledRule struct {
	f      *filter.Filter
	maxAge time.Duration
}

// newRetentionPeriods compiles the periods of opts; the rules' filters
// are pseudonymised as queries are (Options.Pseudonymizer).
func newRetentionPeriods(opts Options) (*retentionPeriods, error) {
	e := &retentionPeriods{defaultAge: opts.RetentionMaxAge}
	for i, r := range opts.RetentionRules {
		if r.MaxAge < 0 {
			return nil, fmt.Errorf("retention rule %d: negative max age %v", i, r.MaxAge)
		}
		f, err := opts.Pseudonymizer.ParseFilter(r.Filter)
		if err == nil {
			err = checkKeptPaths(f, r.KeptFields, "kept_fields: true on the rule")
		}
		if err != nil {
			return nil, fmt.Errorf("retention rule %d: %w", i, err)
		}
		e.rules = append(e.rules, compiledRule{f: f, maxAge: r.MaxAge})
		e.fields = append(e.fields, f.Fields()...)
	}
	for space, age := range opts.RetentionSpaceMaxAge {
		if age < 0 {
			return nil, fmt.Errorf("retention of space %q: negative max age %v", space, age)
		}
	}
	if len(opts.RetentionSpaceMaxAge) > 0 {
		e.spaces = maps.Clone(opts.RetentionSpaceMaxAge)
		e.fields = append(e.fields, event.FieldByName("kibana.saved_objects"), event.FieldByName("kibana.space_ids"))
	}
	if e.perEvent() {
		e.fields = append(e.fields, event.FieldByName("@timestamp"))
	}
	return e, nil
}

// perEvent reports whether the period depends on more than @timestamp:
// on the rules' filters or the event's spaces.
func (e *retentionPeriods) perEvent() bool { return len(e.rules) > 0 || len(e.spaces) > 0 }

// ageOf is the max age that applies to ev; 0 keeps it for ever. The first
// rule that matches decides; else, with per-space periods, its spaces do
// (spaceAge); else the default.
func (e *retentionPeriods) ageOf(ev *event.Event) time.Duration {
	for _, r := range e.rules {
		if r.f.Match(ev) {
			return r.maxAge
		}
	}
	if len(e.spaces) > 0 {
		return e.spaceAge(ev)
	}
	return e.defaultAge
}

// spaceAge is the longest period of ev's spaces (event.Event.Spaces), a
// space without its own period having the default; 0 (for ever) is the
// longest. An event in several spaces is kept while any of them keeps
// it: dropping it at the shortest would take it from spaces whose
// policy says it is still wanted.
func (e *retentionPeriods) spaceAge(ev *event.Event) time.Duration {
	var buf [4]string
	longest := time.Duration(-1)
	for _, s := range ev.Spaces(buf[:0]) {
		age, ok := e.spaces[s]
		if !ok {
			age = e.defaultAge
		}
		if age == 0 {
			return 0
		}
		longest = max(longest, age)
	}
	return longest
}

// expired reports whether ev is expired at now.
func (e *retentionPeriods) expired(ev *event.Event, now time.Time) bool {
	age := e.ageOf(ev)
	return age > 0 && ev.Timestamp.UnixNano() < retention.ExpiredBefore(now, age)
}

// ages returns the shortest and longest periods in force (0 in longest:
// some events are kept for ever), and whether any is set at all.
func (e *retentionPeriods) ages() (shortest, longest time.Duration, set bool) {
	all := []time.Duration{e.defaultAge}
	for _, r := range e.rules {
		all = append(all, r.maxAge)
	}
	for _, a := range e.spaces {
		all = append(all, a)
	}
	for _, a := range all {
		if a > 0 {
			set = true
			if shortest == 0 || a < shortest {
				shortest = a
			}
		}
	}
	longest = all[0]
	for _, a := range all {
		if a == 0 {
			longest = 0
			break
		}
		longest = max(longest, a)
	}
	return shortest, longest, set
}

// certainlyExpiredBefore is the @timestamp below which every event is
// expired at now, whatever rule applies; math.MinInt64 when some are kept
// for ever.
func (e *retentionPeriods) certainlyExpiredBefore(now time.Time) int64 {
	_, longest, set := e.ages()
	if !set || longest == 0 {
		return math.MinInt64
	}
	return retention.ExpiredBefore(now, longest)
}

// queryOptions sets the retention part of a query's options.
func (e *retentionPeriods) queryOptions(opts *query.Options) {
	opts.ExpiredBefore = e.certainlyExpiredBefore(opts.Now)
	if !e.perEvent() {
		return
	}
	shortest, _, set := e.ages()
	if !set {
		return
	}
	now := opts.Now
	opts.Expired = func(ev *event.Event) bool { return e.expired(ev, now) }
	opts.ExpiredFields = e.fields
	opts.MaybeExpiredBefore = retention.ExpiredBefore(now, shortest)
}

// segmentExpiresAt is when every event of s has expired (math.MaxInt64:
// never). Without rules it follows from the newest @timestamp; with rules
// the segment is read once (only when its newest event could have expired
// under the shortest period) and the answer cached: segments never change.
func (db *DB) segmentExpiresAt(s *liveSegment, now time.Time) (int64, error) {
	e := db.retention.Load()
	if !e.perEvent() {
		return retention.ExpiresAt(s.meta.MaxTS, e.defaultAge), nil
	}
	if v := s.expiresAt.Load(); v != 0 {
		return v, nil
	}
	shortest, _, set := e.ages()
	if !set || retention.ExpiresAt(s.meta.MaxTS, shortest) >= now.UnixNano() {
		return math.MaxInt64, nil // not yet: decide on a later run
	}
	latest := int64(math.MinInt64)
	err := s.r.Each(func(_ uint64, ev *event.Event) error {
		latest = max(latest, retention.ExpiresAt(ev.Timestamp.UnixNano(), e.ageOf(ev)))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("segment %s: %w", s.meta.Name, err)
	}
	s.expiresAt.Store(latest)
	return latest, nil
}
