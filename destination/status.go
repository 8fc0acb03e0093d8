package destination

import "time"

// Status is what the API shows of a destination: its config (without the
// secret), where delivery stands and its totals.
type Status struct {
	Config
	// HasSecret replaces the secret, which is never shown.
	HasSecret bool `json:"has_secret"`
	// Fixed destinations come from the config file.
	Fixed bool `json:"fixed"`
	// Cursor is the last sequence number delivered; InFlight the batch
	// being sent.
	Cursor   uint64    `json:"cursor"`
	InFlight *seqRange `json:"in_flight,omitempty"`
	// LagEvents is how many sequence numbers the store is ahead of the
	// cursor (events the filter drops count too); LagSeconds how long the
	// oldest undelivered event has waited since it was read.
	LagEvents  uint64  `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	// Parked is why delivery stopped ("" while it runs).
	Parked    string `json:"parked,omitempty"`
	LastError string `json:"last_error,omitempty"`
	counters
}

// HiddenValue stands for a header's value in a Status.
const HiddenValue = "(hidden)"

func (w *worker) status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Status{Config: w.cfg, HasSecret: w.cfg.Secret != "", Fixed: w.fixed, Cursor: w.prog.Cursor,
		Parked: w.prog.Parked, LastError: w.lastErr, counters: w.stats}
	s.Secret = ""
	if len(s.Headers) > 0 { // their values are often tokens: names only
		s.Headers = make(map[string]string, len(w.cfg.Headers))
		for k := range w.cfg.Headers {
			s.Headers[k] = HiddenValue
		}
	}
	if r := w.prog.InFlight; r != nil {
		cp := *r
		s.InFlight = &cp
	}
	st := w.db.Stats()
	if top := min(st.LastSeq, st.DurableSeq); top > s.Cursor {
		s.LagEvents = top - s.Cursor
	}
	if !w.pendSince.IsZero() {
		s.LagSeconds = time.Since(w.pendSince).Seconds()
	}
	return s
}
