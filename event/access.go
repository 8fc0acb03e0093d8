package event

// The single-field kinds (Duration, Labels, Refs) have no accessor in the
// field table; these reach them by kind.

func durationOf(e *Event) **Duration       { return &e.Event.Duration }
func labelsOf(e *Event) *map[string]string { return &e.Labels }
func refsOf(e *Event) *[]SavedObject       { return &e.Kibana.SavedObjects }

// present reports whether field f of e has a value that is encoded (an empty
// string, list, map or slice is absent).
func present(e *Event, f *Field) bool {
	switch f.Kind {
	case KindString, KindIP:
		return *f.Str(e) != ""
	case KindStrings:
		return len(f.List(e).Values) != 0
	case KindDate:
		return !f.Date(e).IsZero()
	case KindInt:
		return *f.Int(e) != nil
	case KindFloat:
		return *f.Float(e) != nil
	case KindDuration:
		return *durationOf(e) != nil
	case KindLabels:
		return len(*labelsOf(e)) != 0
	case KindRefs:
		return len(*refsOf(e)) != 0
	}
	return false
}
