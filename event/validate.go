package event

import (
	"unicode/utf8"
)

// Validate checks an event built in Go against lim (zero fields take the
// defaults) and the rules Decode enforces on JSON: string sizes and valid
// UTF-8, list, label and ref counts, IP address syntax, valid Dates, finite
// floats, and a single-string list holding one value. MaxDocumentBytes
// applies to Decode's input only and is not checked here. It returns a *FieldError (Offset -1) for the first problem,
// in field-table order.
func (e *Event) Validate(lim Limits) error {
	lim = lim.withDefaults()
	for i, s := range slots {
		if !s.present(e) {
			continue
		}
		if err := validateField(e, &fields[i], s, lim); err != nil {
			return err
		}
	}
	return nil
}

func validateField(e *Event, f *Field, s slot, lim Limits) error {
	switch f.Kind {
	case KindString:
		if f.ID == idClientID {
			if err := clientIDErr(*f.Str(e), -1); err != nil {
				return err
			}
		}
		return validString(f.Name, *f.Str(e), lim)
	case KindIP:
		if !validIP(*f.Str(e)) {
			return fieldErr(f.Name, -1, ErrWrongType, "expected an IPv4 or IPv6 address")
		}
	case KindStrings:
		return validList(f.Name, *f.List(e), lim)
	case KindDate:
		d := f.Date(e)
		if _, ok := DateFromParts(d.UnixNano(), d.Format()); !ok {
			return fieldErr(f.Name, -1, ErrWrongType, "invalid date")
		}
	case KindFloat:
		if !s.finite(e) {
			return fieldErr(f.Name, -1, ErrWrongType, "expected a finite number")
		}
	case KindLabels:
		return validLabels(f.Name, *labelsOf(e), lim)
	case KindRefs:
		return validRefs(f.Name, *refsOf(e), lim)
	case KindExtra:
		return checkExtra(e.Extra.enc, lim)
	}
	return nil
}

// stringOK is validString's fast path: callers whose path costs an
// allocation to build check it first and build the path only on failure.
func stringOK(s string, lim Limits) bool {
	return len(s) <= lim.MaxStringBytes && utf8.ValidString(s)
}

func validString(path, s string, lim Limits) error {
	if len(s) > lim.MaxStringBytes {
		return limitErr(path, -1, "string of %d bytes is over the limit of %d bytes", len(s), lim.MaxStringBytes)
	}
	if !utf8.ValidString(s) {
		return fieldErr(path, -1, ErrWrongType, "invalid UTF-8 in string")
	}
	return nil
}

func validList(path string, l StringList, lim Limits) error {
	if len(l.Values) > lim.MaxTags {
		return limitErr(path, -1, "more than %d items", lim.MaxTags)
	}
	if l.Scalar && len(l.Values) != 1 {
		return fieldErr(path, -1, ErrWrongType, "a single-string list (Scalar) must hold exactly one value")
	}
	for i, s := range l.Values {
		if !stringOK(s, lim) {
			return validString(indexPath(path, i), s, lim)
		}
	}
	return nil
}

func validLabels(path string, m map[string]string, lim Limits) error {
	if len(m) > lim.MaxLabels {
		return limitErr(path, -1, "more than %d labels", lim.MaxLabels)
	}
	for k, v := range m {
		if err := validString(path, k, lim); err != nil {
			return err
		}
		if stringOK(v, lim) {
			continue
		}
		if err := validString(path+"."+k, v, lim); err != nil {
			return err
		}
	}
	return nil
}

func validRefs(path string, refs []SavedObject, lim Limits) error {
	if len(refs) > lim.MaxRefs {
		return limitErr(path, -1, "more than %d saved objects", lim.MaxRefs)
	}
	for i := range refs {
		for k, p := range refFields(&refs[i]) {
			if !stringOK(*p, lim) {
				return validString(indexPath(path, i)+"."+refKeys[k], *p, lim)
			}
		}
	}
	return nil
}
