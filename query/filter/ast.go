package filter

import (
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Node is one condition of a filter's syntax tree: *And, *Or, *Not, *Match,
// *Prefix, *Exists, *Range or *Nested.
type Node interface {
	// Pos returns the 1-based character position in the filter text where
	// the condition starts (0 for hand-built nodes that did not set it).
	Pos() int
	// String returns the canonical s-expression of the condition.
	String() string
}

// And holds when every one of Nodes holds. Parse gives it 2 or more nodes,
// none of them an *And (nested ands are flattened). New also accepts fewer:
// an And with no nodes matches every event.
type And struct {
	At    int
	Nodes []Node
}

// Or holds when any one of Nodes holds. Parse gives it 2 or more nodes, none
// of them an *Or. New also accepts fewer: an Or with no nodes matches nothing.
type Or struct {
	At    int
	Nodes []Node
}

// Not holds when Node does not.
type Not struct {
	At   int
	Node Node
}

// Match is field:value. Free text (a value with no field) is a Match on
// message. Quoted records that the value was written in double quotes, which
// makes it a phrase on message and changes nothing on other fields.
type Match struct {
	At     int
	Path   Path
	Value  string
	Quoted bool
}

// Prefix is field:value*, a value ending in an unescaped '*'. Prefix holds
// the value without the '*'.
type Prefix struct {
	At     int
	Path   Path
	Prefix string
}

// Exists is field:*, which holds when the field is present.
type Exists struct {
	At   int
	Path Path
}

// Range is field < value (or <=, >, >=). Value is the text as written; Int
// holds the parsed integer (nanoseconds for event.duration, the instant in
// Unix nanoseconds for dates) and Float the parsed number for float fields.
// The evaluator and String read Int or Float, not Value.
type Range struct {
	At    int
	Path  Path
	Op    Op
	Value string
	Int   int64
	Float float64
}

// Nested is kibana.saved_objects:{ ... }: it holds when one saved-object
// ref satisfies Node. Every Path inside Node has Field kibana.saved_objects
// and Sub set to a ref property.
type Nested struct {
	At   int
	Path Path
	Node Node
}

// Pos returns where the condition starts.
func (n *And) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Or) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Not) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Match) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Prefix) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Exists) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Range) Pos() int { return n.At }

// Pos returns where the condition starts.
func (n *Nested) Pos() int { return n.At }

// String returns (and A B ...).
func (n *And) String() string { return render(n) }

// String returns (or A B ...).
func (n *Or) String() string { return render(n) }

// String returns (not A).
func (n *Not) String() string { return render(n) }

// String returns (match path "value"), or (phrase message "value") for a
// quoted value on message, where the two differ in meaning.
func (n *Match) String() string { return render(n) }

// String returns (prefix path "prefix").
func (n *Prefix) String() string { return render(n) }

// String returns (exists path).
func (n *Exists) String() string { return render(n) }

// String returns (range path op value), the value as an integer, a number
// (strconv 'g' format) or a quoted UTC RFC 3339 instant by the field's kind.
func (n *Range) String() string { return render(n) }

// String returns (nested kibana.saved_objects A).
func (n *Nested) String() string { return render(n) }

// Path names what a condition reads: an event field, and for "labels" the
// label key, for "kibana.saved_objects" the ref property (type, id, rel,
// namespace, type_id), for the kept unknown fields (the field whose id is
// event.ExtraFieldID) the kept field's dotted path. Sub is empty for a plain field, and for labels and
// kibana.saved_objects as a whole (only field:* and nested queries).
type Path struct {
	Field *event.Field
	Sub   string
}

// String returns the dotted name, e.g. "labels.team" or
// "kibana.saved_objects.id".
func (p Path) String() string {
	if p.Field == extraField && p.Field != nil {
		return p.Sub
	}
	name := ""
	if p.Field != nil {
		name = p.Field.Name
	}
	if p.Sub == "" {
		return name
	}
	return name + "." + p.Sub
}

// Op is a range comparison.
type Op uint8

// The range comparisons. The zero Op is invalid.
const (
	OpLT  Op = iota + 1 // <
	OpLTE               // <=
	OpGT                // >
	OpGTE               // >=
)

// String returns the operator as written: "<", "<=", ">" or ">=".
func (o Op) String() string {
	switch o {
	case OpLT:
		return "<"
	case OpLTE:
		return "<="
	case OpGT:
		return ">"
	case OpGTE:
		return ">="
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// render writes one node's s-expression through a single builder, so a deep
// tree costs linear time rather than a copy per level.
func render(n Node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case nil:
		b.WriteString("(nil)")
	case *And:
		writeList(b, "(and", n.Nodes)
	case *Or:
		writeList(b, "(or", n.Nodes)
	case *Not:
		b.WriteString("(not ")
		writeNode(b, n.Node)
		b.WriteByte(')')
	case *Match:
		verb := "(match "
		if n.Quoted && isText(n.Path) {
			verb = "(phrase "
		}
		writeLeaf(b, verb, n.Path, strconv.Quote(n.Value))
	case *Prefix:
		writeLeaf(b, "(prefix ", n.Path, strconv.Quote(n.Prefix))
	case *Exists:
		writeLeaf(b, "(exists ", n.Path, "")
	case *Range:
		writeLeaf(b, "(range ", n.Path, n.Op.String()+" "+rangeText(n))
	case *Nested:
		b.WriteString("(nested ")
		b.WriteString(pathText(n.Path))
		b.WriteByte(' ')
		writeNode(b, n.Node)
		b.WriteByte(')')
	default:
		b.WriteString(n.String())
	}
}

func writeList(b *strings.Builder, head string, nodes []Node) {
	b.WriteString(head)
	for _, c := range nodes {
		b.WriteByte(' ')
		writeNode(b, c)
	}
	b.WriteByte(')')
}

func writeLeaf(b *strings.Builder, head string, p Path, rest string) {
	b.WriteString(head)
	b.WriteString(pathText(p))
	if rest != "" {
		b.WriteByte(' ')
		b.WriteString(rest)
	}
	b.WriteByte(')')
}

// pathText is the path as String writes it: bare when it is made of the
// characters field names use, quoted otherwise (a label key may hold spaces
// or parentheses), so the s-expression stays unambiguous.
func pathText(p Path) string {
	s := p.String()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '@' || c == '-') {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// rangeText is the comparison value by the field's kind, from Int or Float.
func rangeText(r *Range) string {
	if r.Path.Field == nil {
		return strconv.Quote(r.Value)
	}
	switch r.Path.Field.Kind {
	case event.KindDate:
		return strconv.Quote(time.Unix(0, r.Int).UTC().Format(time.RFC3339Nano))
	case event.KindInt, event.KindDuration:
		return strconv.FormatInt(r.Int, 10)
	case event.KindFloat:
		return strconv.FormatFloat(r.Float, 'g', -1, 64)
	}
	return strconv.Quote(r.Value)
}

// isText reports whether p is the one full-text field, message.
func isText(p Path) bool { return p.Field != nil && p.Field.Name == messageName && p.Sub == "" }
