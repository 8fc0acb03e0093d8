package filter

import (
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// KQL returns filter text that Parse reads back into a tree matching the
// same events as n, a tree New accepts: the form in which a rewritten
// tree (package privacy puts pseudonyms in place of values) is stored
// and shown. Keyword values are quoted; text values and prefixes are bare
// words with every special character escaped, so their meaning (words in
// any order, or a phrase) is kept. An And with no nodes is written
// "@timestamp:* or not @timestamp:*" and an Or with none its negation,
// since KQL has no literal for all or nothing.
func KQL(n Node) string {
	var b strings.Builder
	writeKQL(&b, n, false)
	return b.String()
}

func writeKQL(b *strings.Builder, n Node, inRef bool) {
	switch n := n.(type) {
	case *And:
		writeJoined(b, n.Nodes, " and ", "(@timestamp:* or not @timestamp:*)", inRef)
	case *Or:
		writeJoined(b, n.Nodes, " or ", "(@timestamp:* and not @timestamp:*)", inRef)
	case *Not:
		b.WriteString("not ")
		writeOperand(b, n.Node, inRef)
	case *Match:
		writeKQLPath(b, n.Path, inRef)
		b.WriteByte(':')
		if isText(n.Path) && !n.Quoted {
			writeBare(b, n.Value)
		} else {
			writeQuoted(b, n.Value)
		}
	case *Prefix:
		writeKQLPath(b, n.Path, inRef)
		b.WriteByte(':')
		writeBare(b, n.Prefix)
		b.WriteByte('*')
	case *Exists:
		writeKQLPath(b, n.Path, inRef)
		b.WriteString(":*")
	case *Range:
		writeKQLPath(b, n.Path, inRef)
		b.WriteString(" " + n.Op.String() + " ")
		if n.Path.Field != nil && n.Path.Field.Kind == event.KindDate {
			b.WriteString(rangeText(n)) // the instant, quoted
		} else {
			b.WriteString(strings.Trim(rangeText(n), `"`))
		}
	case *Nested:
		writeKQLPath(b, n.Path, false)
		b.WriteString(":{ ")
		writeKQL(b, n.Node, true)
		b.WriteString(" }")
	}
}

func writeJoined(b *strings.Builder, nodes []Node, sep, empty string, inRef bool) {
	if len(nodes) == 0 {
		b.WriteString(empty)
		return
	}
	for i, c := range nodes {
		if i > 0 {
			b.WriteString(sep)
		}
		writeOperand(b, c, inRef)
	}
}

// writeOperand writes n, in parentheses when it is an and or an or, so
// precedence never regroups it.
func writeOperand(b *strings.Builder, n Node, inRef bool) {
	switch n.(type) {
	case *And, *Or:
		b.WriteByte('(')
		writeKQL(b, n, inRef)
		b.WriteByte(')')
	default:
		writeKQL(b, n, inRef)
	}
}

// writeKQLPath writes a path; inside a nested query only the ref property.
func writeKQLPath(b *strings.Builder, p Path, inRef bool) {
	if inRef {
		b.WriteString(p.Sub)
		return
	}
	b.WriteString(p.String())
}

// writeQuoted writes s in double quotes, escaping '"' and '\'.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// writeBare writes s as one bare word: whitespace, special characters and
// '*' escaped, and a keyword (and, or, not) escaped so it stays a value.
func writeBare(b *strings.Builder, s string) {
	switch strings.ToLower(s) {
	case "and", "or", "not":
		b.WriteByte('\\')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || isSpecial(c) || c == '*' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}
