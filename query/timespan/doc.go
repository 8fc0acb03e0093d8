// Package timespan holds the time arithmetic of query requests: the start
// and end bounds of a request (ParseTime, ParseDuration), date_histogram
// intervals (ParseInterval, Auto) and the mapping of instants to histogram
// buckets in a time zone (Bucketer).
//
// Instants are Unix nanoseconds (int64), as event timestamps are stored.
// Bucketing covers the whole int64 range: results that would fall outside
// it are clamped to math.MinInt64 or math.MaxInt64 rather than wrapping.
//
// # Buckets
//
// Calendar intervals (Nd, 1w, 1M, 1y) follow the wall clock of the
// location: a day bucket starts at local midnight and lasts 23 or 25 hours
// across a daylight-saving change, a week starts on Monday, a month on the
// 1st, a year on January 1; Nd numbers local calendar days from 1970-01-01
// and starts a bucket every N of them. Fixed intervals (ms, s, m, h) have a
// fixed length aligned to the local wall clock with the offset in effect:
// start = ns - mod(ns+offset(ns), length), so hourly buckets in
// Asia/Kolkata (+05:30) start at half past the UTC hour.
//
// When the offset changes so that the wall clock re-enters or skips part
// of a bucket, the buckets still partition time: every instant belongs to
// exactly one bucket, a bucket is the maximal run of instants the wall
// clock gives the same bucket, and so a bucket cut by the change is
// shorter (or, for calendar units, longer) than usual. In the rare zones
// whose clock was once set back across midnight, the repeated hours of the
// previous day form a bucket of their own.
//
// The package embeds the IANA time zone database (time/tzdata), so that
// time.LoadLocation resolves zone names such as "Europe/Berlin" even on a
// server without /usr/share/zoneinfo; a system copy, when present, is
// still preferred.
package timespan
