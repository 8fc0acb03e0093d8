package compaction

import (
	"slices"
	"time"
)

// # Cold partitions
//
// A partition is cold once the newest segment of the store reaches
// Config.ColdAfter past the partition's end: ingest has moved on, and
// what arrives for it from now on is late. Plan then merges the cold
// partition's mergeable segments into one, before overlap or tiers:
// segments of one day that share one postings dictionary and one file
// take fewer bytes than the same rows in several (each file repeats the
// saved-object keys its rows use), and a query of the day opens one
// file. A day sealed in two or three
// heads is rewritten once.
//
// Late events still arrive in cold partitions, each seal making a small
// segment there. A cold merge takes the partition's segments smallest
// first (at most MaxPerPartition, within MaxSegmentBytes) and drops the
// largest while it is more than ColdRatio times the others together, so
// a segment is only rewritten with at least 1/ColdRatio of its size in
// new bytes: what late events cost in rewrites stays within
// (ColdRatio+1) times their own bytes.

// Defaults of the cold policy.
const (
	// DefaultColdRatio is Config.ColdRatio's default.
	DefaultColdRatio = 32
	// coldAfterShare: ColdAfter defaults to Partition/coldAfterShare (3
	// hours of a day).
	coldAfterShare = 8
)

// newestTS returns the largest MaxTS of segs (the store's newest event in
// a segment), and false when there are none.
func newestTS(segs []Segment) (int64, bool) {
	if len(segs) == 0 {
		return 0, false
	}
	n := segs[0].MaxTS
	for _, s := range segs[1:] {
		n = max(n, s.MaxTS)
	}
	return n, true
}

// cold reports whether the partition starting at part (Unix ns) is cold
// when the newest segment reaches newest.
func cold(part, newest int64, cfg Config) bool {
	end := part + int64(cfg.Partition)
	return newest-end >= int64(cfg.ColdAfter) && newest > end
}

// pickSmallest chooses a merge's inputs among ss: the smallest, at most
// MaxPerPartition and MaxSegmentBytes together, without a largest one more
// than ratio times the rest (ColdRatio for a cold partition's merge, 1 for
// overlapping segments).
func pickSmallest(ss []Segment, cfg Config, ratio int64) []Segment {
	in := bySize(ss)
	in = fit(in[:min(len(in), cfg.MaxPerPartition)], cfg.MaxSegmentBytes)
	return lopsided(in, ratio)
}

// lopsided drops the largest of ss (sorted by size) while it is more than
// ratio times all the others together.
func lopsided(ss []Segment, ratio int64) []Segment {
	var rest int64
	for _, s := range ss {
		rest += s.Bytes
	}
	for len(ss) >= 2 {
		last := ss[len(ss)-1]
		rest -= last.Bytes
		if last.Bytes <= ratio*rest {
			break
		}
		ss = ss[:len(ss)-1]
	}
	return slices.Clip(ss)
}

func (c Config) coldDefaults() Config {
	if c.ColdAfter == 0 {
		c.ColdAfter = c.Partition / coldAfterShare
	}
	if c.ColdRatio < 1 {
		c.ColdRatio = DefaultColdRatio
	}
	return c
}

// NeverCold is a Config.ColdAfter that turns the cold policy off.
const NeverCold = time.Duration(1<<63 - 1)
