package server

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// filterPathParam is Elasticsearch's response filter, which shippers send
// with every _bulk (Beats and Elastic Agent ask for
// errors,items.*.error,items.*.status): the answer keeps only the fields
// the paths name, so that a batch of stored documents is answered in a few
// bytes an item instead of the whole result.
const filterPathParam = "filter_path"

// fieldFilter is a parsed filter_path: comma-separated paths of
// dot-separated field names, where a name may hold * wildcards and **
// stands for any number of levels. Arrays are transparent (a path names
// the fields of their elements). A field is kept when a path names it or
// one of its parents; objects and arrays left empty are dropped, and an
// answer left with nothing is {}. Exclusions (a leading -) are refused.
type fieldFilter struct {
	paths [][]string
}

// maxFilterPaths bounds what a request may ask for.
const maxFilterPaths = 64

// parseFilterPath parses the filter_path parameter v; "" is no filter
// (nil).
func parseFilterPath(v string) (*fieldFilter, error) {
	if v == "" {
		return nil, nil
	}
	f := &fieldFilter{}
	for i, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return nil, fmt.Errorf("path %d is empty", i+1)
		case strings.HasPrefix(p, "-"):
			return nil, fmt.Errorf("path %d (%q): exclusions are not supported", i+1, p)
		case len(f.paths) == maxFilterPaths:
			return nil, fmt.Errorf("more than %d paths", maxFilterPaths)
		}
		names := strings.Split(p, ".")
		for _, n := range names {
			if _, err := path.Match(n, ""); n == "" || strings.ContainsAny(n, `[]\`) || err != nil {
				return nil, fmt.Errorf("path %d (%q): bad field name %q", i+1, p, n)
			}
		}
		f.paths = append(f.paths, names)
	}
	return f, nil
}

// filterState is where each path stands at one field of the answer: the
// positions (path, next name) still able to match below it.
type filterState []filterPos

type filterPos struct{ path, next int }

// start is the state at the answer's top level.
func (f *fieldFilter) start() filterState {
	s := make(filterState, len(f.paths))
	for i := range f.paths {
		s[i] = filterPos{path: i}
	}
	return s
}

// child returns the state below field name of a value at s, and whether a
// path names the field whole (keep it all).
func (f *fieldFilter) child(s filterState, name string) (filterState, bool) {
	var out filterState
	whole := false
	for _, p := range f.closure(s) {
		names := f.paths[p.path]
		var q filterPos
		switch n := names[p.next]; {
		case n == "**":
			q = p // ** takes this level, and may take more
		case nameMatches(n, name):
			q = filterPos{p.path, p.next + 1}
		default:
			continue
		}
		if onlyStars(names[q.next:]) {
			whole = true
		} else if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out, whole
}

// closure returns s with, for each position at a **, the positions past
// it: ** also stands for no level at all.
func (f *fieldFilter) closure(s filterState) filterState {
	out := slices.Clone(s)
	for i := 0; i < len(out); i++ {
		p := out[i]
		if names := f.paths[p.path]; names[p.next] == "**" && p.next+1 < len(names) {
			if q := (filterPos{p.path, p.next + 1}); !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	return out
}

// onlyStars reports whether names is empty or all **.
func onlyStars(names []string) bool {
	for _, n := range names {
		if n != "**" {
			return false
		}
	}
	return true
}

// nameMatches reports whether field name matches pattern (* wildcards).
func nameMatches(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	ok, _ := path.Match(pattern, name) // checked by parseFilterPath
	return ok
}

// errFilterInput is a malformed JSON document given to apply: a bug, as
// the server filters only answers it wrote.
var errFilterInput = errors.New("filter_path: malformed answer")

// apply appends to dst the JSON document src, an object, keeping only the
// fields f names.
func (f *fieldFilter) apply(dst, src []byte) ([]byte, error) {
	for _, p := range f.paths {
		if onlyStars(p) {
			return append(dst, src...), nil
		}
	}
	w := filterWalk{f: f, src: src}
	start := len(dst)
	dst, kept := w.value(dst, f.start(), false)
	if w.err != nil || w.pos != len(src) {
		return dst[:start], errFilterInput
	}
	if !kept {
		dst = append(dst[:start], "{}"...)
	}
	return dst, nil
}

// filterWalk walks one document, without whitespace (the server's own
// answers have none).
type filterWalk struct {
	f   *fieldFilter
	src []byte
	pos int
	err error
}

// value copies the value at w.pos to dst if whole, else its fields that s
// keeps; it reports whether it wrote anything.
func (w *filterWalk) value(dst []byte, s filterState, whole bool) ([]byte, bool) {
	if w.pos >= len(w.src) {
		w.err = errFilterInput
		return dst, false
	}
	if whole {
		from := w.pos
		w.skip()
		return append(dst, w.src[from:w.pos]...), true
	}
	switch w.src[w.pos] {
	case '{':
		return w.object(dst, s)
	case '[':
		return w.array(dst, s)
	default: // a scalar the paths reach only part of the way: dropped
		w.skip()
		return dst, false
	}
}

// object filters the object at w.pos.
func (w *filterWalk) object(dst []byte, s filterState) ([]byte, bool) {
	return w.container(dst, '}', func(dst []byte) ([]byte, bool) {
		keyFrom := w.pos
		name, ok := w.key()
		if !ok {
			w.err = errFilterInput
			return dst, false
		}
		sub, whole := w.f.child(s, name)
		if !whole && len(sub) == 0 {
			w.skip()
			return dst, false
		}
		return w.value(append(dst, w.src[keyFrom:w.pos]...), sub, whole)
	})
}

// array filters the array at w.pos: its elements are at the array's own
// level of the paths.
func (w *filterWalk) array(dst []byte, s filterState) ([]byte, bool) {
	return w.container(dst, ']', func(dst []byte) ([]byte, bool) { return w.value(dst, s, false) })
}

// container filters the object or array at w.pos, which ends with end:
// member appends what it keeps of the member at w.pos (nothing, or the
// whole of what it appended is dropped) and reports whether it kept any.
// An emptied container is dropped too.
func (w *filterWalk) container(dst []byte, end byte, member func([]byte) ([]byte, bool)) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, w.src[w.pos])
	w.pos++
	for n := 0; w.err == nil && w.pos < len(w.src) && w.src[w.pos] != end; n++ {
		if n > 0 {
			if w.src[w.pos] != ',' {
				w.err = errFilterInput
				break
			}
			w.pos++
		}
		mark := len(dst)
		if len(dst) > start+1 {
			dst = append(dst, ',')
		}
		var kept bool
		if dst, kept = member(dst); !kept {
			dst = dst[:mark]
		}
	}
	if w.err != nil || w.pos >= len(w.src) {
		w.err = errFilterInput
		return dst[:start], false
	}
	w.pos++ // end
	if len(dst) == start+1 {
		return dst[:start], false
	}
	return append(dst, end), true
}

// key reads a member's name and the colon after it. Names in the server's
// answers have no escapes; one that does is matched as written.
func (w *filterWalk) key() (string, bool) {
	if w.pos >= len(w.src) || w.src[w.pos] != '"' {
		return "", false
	}
	from := w.pos
	w.skipString()
	if w.err != nil || w.pos >= len(w.src) || w.src[w.pos] != ':' {
		return "", false
	}
	name := string(w.src[from+1 : w.pos-1])
	w.pos++
	return name, true
}

// skip moves past the value at w.pos.
func (w *filterWalk) skip() {
	depth := 0
	for w.pos < len(w.src) {
		switch c := w.src[w.pos]; c {
		case '"':
			w.skipString()
			if w.err != nil {
				return
			}
		case '{', '[':
			depth++
			w.pos++
		case '}', ']':
			if depth == 0 {
				return // the end of the enclosing value
			}
			depth--
			w.pos++
		case ',':
			if depth == 0 {
				return
			}
			w.pos++
		default:
			w.pos++
		}
		if depth == 0 && w.pos > 0 && (w.src[w.pos-1] == '"' || w.src[w.pos-1] == '}' || w.src[w.pos-1] == ']') {
			return
		}
	}
	if depth != 0 {
		w.err = errFilterInput
	}
}

// skipString moves past the string at w.pos.
func (w *filterWalk) skipString() {
	for i := w.pos + 1; i < len(w.src); i++ {
		switch w.src[i] {
		case '\\':
			i++
		case '"':
			w.pos = i + 1
			return
		}
	}
	w.err = errFilterInput
}
