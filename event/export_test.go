package event

// GenEvent lends the event generator to the tests of package event_test,
// which draw kept unknown fields with internal/eventgen.
var GenEvent = genEvent
