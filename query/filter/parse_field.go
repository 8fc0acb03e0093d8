package filter

import (
	"strings"
)

// valueCtx is what a value parsed after field: belongs to.
type valueCtx struct {
	path     Path
	fieldPos int
	// list: inside field:(...), where each condition starts at its value
	// rather than at the field.
	list bool
}

// parseField parses field:value, field:(values), field op value and
// kibana.saved_objects:{...}; the next two tokens are the field and ':' or
// the operator.
func (p *parser) parseField(nested bool) (Node, error) {
	ft := p.next()
	opTok := p.next()
	if ft.kind == tWord && ft.star != 0 {
		return nil, errorf(ft.star, "wildcards are not supported in field names")
	}
	path, err := resolve(ft, nested)
	if err != nil {
		return nil, err
	}
	if opTok.kind == tOp {
		return p.parseRange(ft, path, opTok)
	}
	if p.peek().kind == tLBrace {
		return p.parseNested(ft, path)
	}
	return p.parseValueExpr(valueCtx{path: path, fieldPos: ft.pos})
}

// parseNested parses the {...} of kibana.saved_objects:{...}.
func (p *parser) parseNested(ft token, path Path) (Node, error) {
	open := p.next()
	if path.Field != refsField || path.Sub != "" {
		return nil, errorf(open.pos, "only %s takes a nested query {...}", refsName)
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	inner, err := p.parseOr(true)
	p.leave()
	if err != nil {
		return nil, err
	}
	if err := p.expectClose(open); err != nil {
		return nil, err
	}
	return &Nested{At: ft.pos, Path: path, Node: inner}, nil
}

// parseRange parses the value of field op value.
func (p *parser) parseRange(ft token, path Path, opTok token) (Node, error) {
	r := &Range{At: ft.pos, Path: path, Op: opTok.op}
	if pr := rangeKind(path); pr != nil {
		return nil, errorf(ft.pos, "%s", pr.msg)
	}
	vt := p.peek()
	if vt.kind != tWord && vt.kind != tQuoted || keyword(vt) != "" {
		return nil, p.valueExpected(vt)
	}
	p.next()
	if vt.kind == tWord && vt.star != 0 {
		return nil, errorf(vt.star, "wildcards are not allowed in a range")
	}
	r.Value = vt.text
	if pr := parseRangeValue(r); pr != nil {
		return nil, errorf(vt.pos, "%s", pr.msg)
	}
	return r, nil
}

// valueExpected is the error for a token where a value should be.
func (p *parser) valueExpected(t token) error {
	if t.kind == tErr {
		return t.err
	}
	after := p.describe(p.i - 1)
	if k := keyword(t); k != "" {
		return errorf(t.pos, "expected value after %s ('%s' is a keyword: quote it to search for it)", after, k)
	}
	return errorf(t.pos, "expected value after %s", after)
}

// parseValueExpr parses what follows field: (a value, or a parenthesized
// list of values joined by and, or, not).
func (p *parser) parseValueExpr(vc valueCtx) (Node, error) {
	if p.peek().kind != tLParen {
		return p.parseValue(vc)
	}
	open := p.next()
	if err := p.enter(open); err != nil {
		return nil, err
	}
	vc.list = true
	n, err := p.binary("or", func() (Node, error) {
		return p.binary("and", func() (Node, error) { return p.parseValueNot(vc) })
	})
	p.leave()
	if err != nil {
		return nil, err
	}
	return n, p.expectClose(open)
}

func (p *parser) parseValueNot(vc valueCtx) (Node, error) {
	t := p.peek()
	switch {
	case keyword(t) == "not":
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		n, err := p.parseValueNot(vc)
		if err != nil {
			return nil, err
		}
		return &Not{At: t.pos, Node: n}, nil
	case t.kind == tLParen:
		return p.parseValueExpr(vc)
	case p.fieldAt(p.i):
		return nil, errorf(t.pos, "expected a value of %s, not a field, inside %s:(...)", vc.path, vc.path)
	}
	return p.parseValue(vc)
}

// parseValue parses one value: a quoted string, or a run of bare words up to
// a keyword, a non-word token or the next field:, ending in an optional '*'.
func (p *parser) parseValue(vc valueCtx) (Node, error) {
	t := p.peek()
	if t.kind != tWord && t.kind != tQuoted || keyword(t) != "" {
		return nil, p.valueExpected(t)
	}
	at := vc.fieldPos
	if vc.list {
		at = t.pos
	}
	var leaf Node
	if t.kind == tQuoted {
		p.next()
		leaf = &Match{At: at, Path: vc.path, Value: t.text, Quoted: true}
	} else {
		var err error
		if leaf, err = p.parseWords(vc.path, at); err != nil {
			return nil, err
		}
	}
	if pr := leafProblem(leaf); pr != nil {
		pos := vc.fieldPos
		if pr.onValue {
			pos = t.pos
		}
		return nil, errorf(pos, "%s", pr.msg)
	}
	return leaf, nil
}

// parseWords parses the bare words of one value; only the last may end in
// a '*', which makes the value a prefix (or, alone, field:*).
func (p *parser) parseWords(path Path, at int) (Node, error) {
	first := p.i
	p.next()
	for t := p.peek(); t.kind == tWord && keyword(t) == "" && !p.fieldAt(p.i); t = p.peek() {
		p.next()
	}
	words := p.toks[first:p.i]
	last := words[len(words)-1]
	for _, w := range words[:len(words)-1] {
		if w.star != 0 {
			return nil, errorf(w.star, "wildcards are supported only at the end of a value")
		}
	}
	if last.star != 0 && !last.trailingStar {
		return nil, errorf(last.star, "wildcards are supported only at the end of a value")
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(p.text[words[i-1].end:w.start]) // the whitespace as written
		}
		b.WriteString(w.text)
	}
	value := b.String()
	if !last.trailingStar {
		return &Match{At: at, Path: path, Value: value}, nil
	}
	value = value[:len(value)-1]
	if value == "" {
		return &Exists{At: at, Path: path}, nil
	}
	return &Prefix{At: at, Path: path, Prefix: value}, nil
}
