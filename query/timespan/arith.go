package timespan

import "math"

// floorDiv returns floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// mod returns a - b*floorDiv(a, b), in [0, b), for b > 0.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// addClamp returns a+b clamped to the int64 range.
func addClamp(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// secToNs converts Unix seconds plus nanoseconds (0 <= nsec < 1e9) to Unix
// nanoseconds, clamped to the int64 range.
func secToNs(sec, nsec int64) int64 {
	const lim = math.MaxInt64 / int64(1e9)
	switch {
	case sec > lim:
		return math.MaxInt64
	case sec == -lim-1: // sec*1e9 alone would overflow, the sum may not
		return addClamp((sec+1)*1e9, nsec-1e9)
	case sec < -lim-1:
		return math.MinInt64
	}
	return addClamp(sec*1e9, nsec)
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (month 1..12), after Howard Hinnant's
// days_from_civil: exact arithmetic, unlike time.Date, which normalises
// dates through the zone rules.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}
