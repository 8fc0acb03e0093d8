package filter

import (
	"strings"
)

// Parse parses a KQL filter (see the package comment for the language).
// Empty or all-whitespace text gives a Filter whose Root is nil, which
// matches every event. Errors are *Error.
func Parse(text string) (*Filter, error) {
	if len(text) > MaxLength {
		return nil, errorf(1, "filter is %d bytes long; the limit is %d", len(text), MaxLength)
	}
	p := &parser{text: text, toks: lex(text)}
	if p.peek().kind == tEOF {
		return &Filter{}, nil
	}
	root, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return New(root)
}

// parser is a recursive-descent parser over the token slice. Every loop and
// recursion consumes a token, and recursion is bounded by MaxDepth, so
// parsing is linear in the text.
type parser struct {
	text  string
	toks  []token
	i     int
	depth int
}

// peek returns the next token; the slice always ends with tEOF or tErr,
// which is never consumed.
func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF && t.kind != tErr {
		p.i++
	}
	return t
}

// keyword returns the keyword t is ("and", "or", "not"), or "". Keywords are
// case-insensitive; an escaped word (\and) is never one.
func keyword(t token) string {
	if t.kind != tWord || t.escaped || len(t.text) > 3 {
		return ""
	}
	switch k := strings.ToLower(t.text); k {
	case "and", "or", "not":
		return k
	}
	return ""
}

// fieldAt reports whether the token at i starts field:... or field op ...
func (p *parser) fieldAt(i int) bool {
	t := p.toks[i]
	if t.kind != tWord && t.kind != tQuoted || keyword(t) != "" || i+1 >= len(p.toks) {
		return false
	}
	k := p.toks[i+1].kind
	return k == tColon || k == tOp
}

// enter counts one level of nesting at t, failing past MaxDepth.
func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return errorf(t.pos, "nesting deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseOr parses expr { or expr }; nested says it is inside
// kibana.saved_objects:{...}.
func (p *parser) parseOr(nested bool) (Node, error) {
	return p.binary("or", func() (Node, error) {
		return p.binary("and", func() (Node, error) { return p.parseNot(nested) })
	})
}

// binary parses operand { kw operand } and flattens same-kind children, so
// a or (b or c) is one Or of three.
func (p *parser) binary(kw string, operand func() (Node, error)) (Node, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for keyword(p.peek()) == kw {
		p.next()
		n, err := operand()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return join(kw, nodes), nil
}

// join builds the And or Or of nodes, splicing in children of the same kind.
func join(kw string, nodes []Node) Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	var flat []Node
	for _, n := range nodes {
		switch c := n.(type) {
		case *And:
			if kw == "and" {
				flat = append(flat, c.Nodes...)
				continue
			}
		case *Or:
			if kw == "or" {
				flat = append(flat, c.Nodes...)
				continue
			}
		}
		flat = append(flat, n)
	}
	if kw == "and" {
		return &And{At: flat[0].Pos(), Nodes: flat}
	}
	return &Or{At: flat[0].Pos(), Nodes: flat}
}

func (p *parser) parseNot(nested bool) (Node, error) {
	t := p.peek()
	if keyword(t) != "not" {
		return p.parsePrimary(nested)
	}
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next()
	n, err := p.parseNot(nested)
	if err != nil {
		return nil, err
	}
	return &Not{At: t.pos, Node: n}, nil
}

func (p *parser) parsePrimary(nested bool) (Node, error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		return p.parseGroup(nested)
	case (t.kind == tWord || t.kind == tQuoted) && keyword(t) == "":
		if p.fieldAt(p.i) {
			return p.parseField(nested)
		}
		if nested {
			return nil, errorf(t.pos, "expected a field name (%s) inside kibana.saved_objects:{...}", refPropList)
		}
		return p.parseValue(valueCtx{path: Path{Field: messageField}, fieldPos: t.pos})
	}
	return nil, p.unexpected(t)
}

// unexpected is the error for a token that cannot start an expression.
func (p *parser) unexpected(t token) error {
	switch t.kind {
	case tErr:
		return t.err
	case tEOF:
		return errorf(t.pos, "expected an expression after %s", p.describe(p.i-1))
	case tColon, tOp:
		return errorf(t.pos, "expected a field name before %s", p.describe(p.i))
	}
	return errorf(t.pos, "unexpected %s", p.describe(p.i))
}

// describe names the token at i for messages, as written.
func (p *parser) describe(i int) string {
	if i < 0 {
		return "the start"
	}
	t := p.toks[i]
	switch t.kind {
	case tEOF:
		return "the end"
	case tWord:
		if k := keyword(t); k != "" {
			return "'" + k + "'"
		}
		return "value"
	case tQuoted:
		return "quoted value"
	}
	return "'" + p.text[t.start:t.end] + "'"
}

// parseGroup parses ( expr ).
func (p *parser) parseGroup(nested bool) (Node, error) {
	open := p.next()
	if err := p.enter(open); err != nil {
		return nil, err
	}
	n, err := p.parseOr(nested)
	p.leave()
	if err != nil {
		return nil, err
	}
	return n, p.expectClose(open)
}

// expectClose consumes the ')' or '}' that closes open.
func (p *parser) expectClose(open token) error {
	want, closer := tRParen, "')'"
	if open.kind == tLBrace {
		want, closer = tRBrace, "'}'"
	}
	t := p.peek()
	switch t.kind {
	case want:
		p.next()
		return nil
	case tErr:
		return t.err
	case tEOF:
		return errorf(open.pos, "'%s' is never closed", p.text[open.start:open.end])
	}
	return p.adjacent(t, "expected 'and', 'or' or "+closer)
}

// expectEnd checks that the whole text was read.
func (p *parser) expectEnd() error {
	t := p.peek()
	switch t.kind {
	case tEOF:
		return nil
	case tErr:
		return t.err
	case tRParen, tRBrace:
		return errorf(t.pos, "unexpected %s", p.describe(p.i))
	}
	return p.adjacent(t, "expected 'and' or 'or'")
}

// adjacent is the error for a token after a complete expression.
func (p *parser) adjacent(t token, msg string) error {
	if t.kind == tColon {
		return errorf(t.pos, "unexpected ':' (quote a value that contains ':')")
	}
	return errorf(t.pos, "%s", msg)
}
