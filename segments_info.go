package eventlog

import "time"

// SegmentInfo describes one live segment file.
type SegmentInfo struct {
	Name   string    `json:"name"`
	Events int       `json:"events"`
	Bytes  int64     `json:"bytes"`
	MinTS  time.Time `json:"min_timestamp"`
	MaxTS  time.Time `json:"max_timestamp"`
	MinSeq uint64    `json:"min_seq"`
	MaxSeq uint64    `json:"max_seq"`
}

// Segments lists the live segments, oldest first, with their time and
// sequence ranges.
func (db *DB) Segments() []SegmentInfo {
	st := db.state.Load()
	out := make([]SegmentInfo, len(st.segments))
	for i, s := range st.segments {
		m := s.meta
		out[i] = SegmentInfo{
			Name: m.Name, Events: m.Events, Bytes: m.Bytes,
			MinTS: time.Unix(0, m.MinTS).UTC(), MaxTS: time.Unix(0, m.MaxTS).UTC(),
			MinSeq: m.MinSeq, MaxSeq: m.MaxSeq,
		}
	}
	return out
}
