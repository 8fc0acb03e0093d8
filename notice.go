package eventlog

import (
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/privacy"
)

// Notice returns what the store collects, which fields it pseudonymises
// and how long it keeps events, from its live options; the caller (the
// server, the CLI) fills Access, which the store does not know.
func (db *DB) Notice() privacy.Notice { return NoticeOf(db.opts) }

// NoticeOf is the Notice of a store opened with o, for tools that show
// what a configuration promises without opening the store.
func NoticeOf(o Options) privacy.Notice {
	r := privacy.Retention{
		MaxAge:   privacy.Age(o.RetentionMaxAge),
		MaxBytes: o.RetentionMaxBytes,
		Rule: "an event is kept for the max age of the first rule whose filter it matches; else, for the longest max age of its spaces " +
			"(its saved-object refs' namespaces and kibana.space_ids; neither: default; a space without its own takes the default); " +
			"queries stop returning it once it is older than that by @timestamp, and its segment is dropped once all its events are",
	}
	if len(o.RetentionSpaceMaxAge) > 0 {
		r.Spaces = map[string]string{}
		for s, a := range o.RetentionSpaceMaxAge {
			r.Spaces[s] = privacy.Age(a)
		}
	}
	for _, rule := range o.RetentionRules {
		text, err := o.Pseudonymizer.FilterText(rule.Filter) // checked at Open
		if err != nil {
			text = rule.Filter
		}
		r.Rules = append(r.Rules, privacy.RetentionRule{Filter: text, MaxAge: privacy.Age(rule.MaxAge)})
	}
	var names []string
	for _, f := range event.Fields() {
		names = append(names, f.Name)
	}
	return privacy.NewNotice(names, o.Pseudonymizer, r)
}
