package event

import "time"

// StartTiming sets event.start to now, as the Kibana event logger's
// startTiming does (UTC, millisecond precision: DateOf(now)).
func StartTiming(e *Event, now time.Time) {
	e.Event.Start = DateOf(now)
}

// StopTiming sets event.end to now (DateOf(now)) and event.duration to
// end - start in nanoseconds, written as a JSON number, as the Kibana event
// logger's stopTiming does. When event.start is unset the duration is left
// as it is (event.end is still set).
func StopTiming(e *Event, now time.Time) {
	e.Event.End = DateOf(now)
	if e.Event.Start.IsZero() {
		return
	}
	e.Event.Duration = &Duration{Nanos: e.Event.End.UnixNano() - e.Event.Start.UnixNano()}
}
