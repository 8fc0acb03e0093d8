package eventlog

import (
	"fmt"
	"math"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/retention"
)

// retentionPeriods applies the retention periods: the default (RetentionMaxAge) and
// the rules, compiled once at Open.
type retentionPeriods struct {
	defaultAge time.Duration
	rules      []compiledRule
	fields     []*event.Field // what the rules' filters read
}

type compiledRule struct {
	f      *filter.Filter
	maxAge time.Duration
}

func newRetentionPeriods(opts Options) (*retentionPeriods, error) {
	e := &retentionPeriods{defaultAge: opts.RetentionMaxAge}
	for i, r := range opts.RetentionRules {
		if r.MaxAge < 0 {
			return nil, fmt.Errorf("retention rule %d: negative max age %v", i, r.MaxAge)
		}
		f, err := filter.Parse(r.Filter)
		if err != nil {
			return nil, fmt.Errorf("retention rule %d: %w", i, err)
		}
		e.rules = append(e.rules, compiledRule{f: f, maxAge: r.MaxAge})
		e.fields = append(e.fields, f.Fields()...)
	}
	if len(e.rules) > 0 {
		e.fields = append(e.fields, event.FieldByName("@timestamp"))
	}
	return e, nil
}

// ageOf is the max age that applies to ev; 0 keeps it for ever.
func (e *retentionPeriods) ageOf(ev *event.Event) time.Duration {
	for _, r := range e.rules {
		if r.f.Match(ev) {
			return r.maxAge
		}
	}
	return e.defaultAge
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
	if len(e.rules) == 0 {
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
	e := db.retention
	if len(e.rules) == 0 {
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
