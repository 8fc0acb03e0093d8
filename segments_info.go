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
		out[i] = segmentInfo(m.Name, m.Events, m.Bytes, m.MinTS, m.MaxTS, m.MinSeq, m.MaxSeq)
	}
	return out
}

func segmentInfo(name string, events int, bytes, minTS, maxTS int64, minSeq, maxSeq uint64) SegmentInfo {
	return SegmentInfo{
		Name: name, Events: events, Bytes: bytes,
		MinTS: time.Unix(0, minTS).UTC(), MaxTS: time.Unix(0, maxTS).UTC(),
		MinSeq: minSeq, MaxSeq: maxSeq,
	}
}
