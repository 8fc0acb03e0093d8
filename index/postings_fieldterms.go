package index

// FieldTerms returns how many terms of field the dictionary holds, in
// bytewise order: 0 when it holds none. (The client ids of a LayoutV4
// section are in pages, not in the dictionary, and are not counted.)
// Segments of format version 5 number the refs of their blocks by their
// key's place among the RefField terms.
func (p *Postings) FieldTerms(field string) int {
	fi := p.field(field)
	if fi < 0 {
		return 0
	}
	return p.fields[fi].end - p.fields[fi].first
}

// FieldTerm returns the value of the i-th term (0-based, bytewise order)
// of field; ok is false when the field has no such term. The value is
// borrowed from the dictionary, which the Postings owns and never changes.
func (p *Postings) FieldTerm(field string, i int) (value string, ok bool) {
	fi := p.field(field)
	if fi < 0 || i < 0 || i >= p.fields[fi].end-p.fields[fi].first {
		return "", false
	}
	return p.value(p.fields[fi].first + i), true
}

// FieldValues calls fn with the value of each term of field, in bytewise
// order (FieldTerm's), stopping at the first error: a walk without
// FieldTerm's search for the field at every term. The value is borrowed
// as FieldTerm's is.
func (p *Postings) FieldValues(field string, fn func(value string) error) error {
	fi := p.field(field)
	if fi < 0 {
		return nil
	}
	for i := p.fields[fi].first; i < p.fields[fi].end; i++ {
		if err := fn(p.value(i)); err != nil {
			return err
		}
	}
	return nil
}
