package event

// Spaces appends to dst the Kibana spaces ev is in, each once: the spaces of
// its saved-object refs (a ref without a namespace is in DefaultSpace) and
// those kibana.space_ids lists. An event with neither is in DefaultSpace, so
// events from shippers that know nothing of spaces are seen by a reader of
// the default space. This is the one definition of an event's spaces: space
// filters, scoped readers and writers and per-space retention all use it.
func (ev *Event) Spaces(dst []string) []string {
	start := len(dst)
	add := func(s string) {
		for _, have := range dst[start:] {
			if have == s {
				return
			}
		}
		dst = append(dst, s)
	}
	for i := range ev.Kibana.SavedObjects {
		add(ev.Kibana.SavedObjects[i].Space())
	}
	for _, s := range ev.Kibana.SpaceIDs.Values {
		add(s)
	}
	if len(dst) == start {
		dst = append(dst, DefaultSpace)
	}
	return dst
}

// InSpace reports whether space is one of ev's Spaces.
func (ev *Event) InSpace(space string) bool {
	for i := range ev.Kibana.SavedObjects {
		if ev.Kibana.SavedObjects[i].Space() == space {
			return true
		}
	}
	for _, s := range ev.Kibana.SpaceIDs.Values {
		if s == space {
			return true
		}
	}
	return space == DefaultSpace && len(ev.Kibana.SavedObjects) == 0 && len(ev.Kibana.SpaceIDs.Values) == 0
}
