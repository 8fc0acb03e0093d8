package filter

import (
	"strings"

	"pgregory.net/rapid"
)

// renderer writes a tree as KQL text, drawing among equivalent spellings:
// keyword case, spacing, redundant parentheses, quoted or escaped values,
// free text for message, field:(value list) for conditions on one field.
type renderer struct {
	t *rapid.T
}

func (r *renderer) pick(label string, options ...string) string {
	return rapid.SampledFrom(options).Draw(r.t, label)
}

func (r *renderer) keyword(kw string) string {
	return r.pick("space", " ", "  ", "\t") + r.pick("case", kw, strings.ToUpper(kw)) + r.pick("space", " ", "\n")
}

// node renders n; inRef says it is inside kibana.saved_objects:{...}, where
// fields are written without the kibana.saved_objects. prefix.
func (r *renderer) node(n Node, inRef bool) string {
	if path, ok := valueTree(n); ok && rapid.IntRange(0, 2).Draw(r.t, "as list") == 0 {
		return r.field(path, inRef) + ":(" + r.values(n) + ")"
	}
	switch n := n.(type) {
	case *And:
		return r.join(n.Nodes, "and", inRef)
	case *Or:
		return r.join(n.Nodes, "or", inRef)
	case *Not:
		return r.pick("not", "not ", "NOT ", "not\t") + r.group(n.Node, inRef)
	case *Nested:
		return r.field(n.Path, inRef) + r.pick("colon", ":", " : ") + "{" + r.pick("space", "", " ") + r.node(n.Node, true) + r.pick("space", "", " ") + "}"
	case *Range:
		value := n.Value
		if strings.Contains(value, ":") || rapid.Bool().Draw(r.t, "quote range") {
			value = quote(value)
		}
		return r.field(n.Path, inRef) + r.pick("space", "", " ") + n.Op.String() + r.pick("space", "", " ") + value
	}
	if p := pathOf(n); isText(p) && rapid.Bool().Draw(r.t, "free text") {
		return r.value(n)
	}
	return r.field(pathOf(n), inRef) + r.pick("colon", ":", ": ", " :") + r.value(n)
}

// join renders operands joined by kw, sometimes grouping the first two in
// parentheses (a or b) or c, which the parser must flatten.
func (r *renderer) join(nodes []Node, kw string, inRef bool) string {
	parts := make([]string, len(nodes))
	for i, c := range nodes {
		parts[i] = r.group(c, inRef)
	}
	return r.joinParts(parts, kw)
}

func (r *renderer) joinParts(parts []string, kw string) string {
	if len(parts) >= 3 && rapid.Bool().Draw(r.t, "group first two") {
		parts = append([]string{"(" + parts[0] + r.keyword(kw) + parts[1] + ")"}, parts[2:]...)
	}
	return strings.Join(parts, r.keyword(kw))
}

// group renders n as an operand: parenthesized when it is an and or an or
// (needed under not and for an or under and; harmless elsewhere), and
// sometimes when it is not.
func (r *renderer) group(n Node, inRef bool) string {
	switch n.(type) {
	case *And, *Or:
		return "(" + r.node(n, inRef) + ")"
	}
	if rapid.IntRange(0, 4).Draw(r.t, "parens") == 0 {
		return "(" + r.pick("space", "", " ") + r.node(n, inRef) + r.pick("space", "", " ") + ")"
	}
	return r.node(n, inRef)
}

func (r *renderer) field(p Path, inRef bool) string {
	if inRef {
		return p.Sub
	}
	return p.String()
}

// values renders a value tree for field:(...).
func (r *renderer) values(n Node) string {
	switch n := n.(type) {
	case *And:
		return r.joinValues(n.Nodes, "and")
	case *Or:
		return r.joinValues(n.Nodes, "or")
	case *Not:
		return r.pick("not", "not ", "NOT ") + r.valueGroup(n.Node)
	}
	return r.value(n)
}

func (r *renderer) joinValues(nodes []Node, kw string) string {
	parts := make([]string, len(nodes))
	for i, c := range nodes {
		parts[i] = r.valueGroup(c)
	}
	return r.joinParts(parts, kw)
}

func (r *renderer) valueGroup(n Node) string {
	switch n.(type) {
	case *And, *Or:
		return "(" + r.values(n) + ")"
	}
	return r.values(n)
}

// value renders the value of a leaf.
func (r *renderer) value(n Node) string {
	switch n := n.(type) {
	case *Exists:
		return "*"
	case *Prefix:
		return r.bare(n.Prefix) + "*"
	case *Match:
		if n.Quoted {
			return quote(n.Value)
		}
		return r.bare(n.Value)
	}
	panic("renderer: not a value leaf")
}

// bare writes a value as bare words: special characters, '*' and keywords
// escaped with a backslash, inner spaces either escaped or left as word
// separators (the parser keeps the whitespace between words as written).
func (r *renderer) bare(v string) string {
	raw := rapid.Bool().Draw(r.t, "raw spaces")
	var b strings.Builder
	words := strings.Split(v, " ")
	for i, w := range words {
		if i > 0 {
			if raw && words[i-1] != "" && w != "" {
				b.WriteByte(' ')
			} else {
				b.WriteString(`\ `)
			}
		}
		if k := strings.ToLower(w); k == "and" || k == "or" || k == "not" {
			b.WriteByte('\\')
		}
		for _, c := range w {
			if strings.ContainsRune("\\():<>\"{}* \t\r\n", c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

// quote writes a KQL quoted string: inside quotes only \" and \\ are
// escapes.
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// valueTree reports whether n is made of and, or, not over Match, Prefix
// and Exists leaves all on one path, so it can be written field:(...).
func valueTree(n Node) (Path, bool) {
	var path Path
	first := true
	var ok func(Node) bool
	ok = func(n Node) bool {
		switch n := n.(type) {
		case *And:
			return all(n.Nodes, ok)
		case *Or:
			return all(n.Nodes, ok)
		case *Not:
			return ok(n.Node)
		case *Match, *Prefix, *Exists:
			p := pathOf(n)
			if first {
				path, first = p, false
			}
			return p == path
		}
		return false
	}
	if _, leaf := n.(*Not); !leaf {
		switch n.(type) {
		case *And, *Or:
		default:
			return Path{}, false // a single leaf gains nothing from a list
		}
	}
	return path, ok(n)
}

func all(nodes []Node, f func(Node) bool) bool {
	for _, n := range nodes {
		if !f(n) {
			return false
		}
	}
	return true
}
