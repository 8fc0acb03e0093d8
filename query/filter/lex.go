package filter

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tErr            // a lexical error, in err; always the last token
	tWord           // an unquoted run of characters, escapes resolved
	tQuoted         // a "double-quoted" string, escapes resolved
	tLParen         // (
	tRParen         // )
	tLBrace         // {
	tRBrace         // }
	tColon          // :
	tOp             // < <= > >=
)

// token is one lexical token. Keywords (and, or, not) are words; the parser
// tells them apart, since whether a word is a keyword depends on escapes.
type token struct {
	kind       tokKind
	pos        int // 1-based character position of the first character
	start, end int // byte offsets in the text, end exclusive
	text       string
	op         Op
	// escaped: the word had a backslash escape, so it is never a keyword.
	escaped bool
	// star is the position of the word's first unescaped '*', 0 if none;
	// trailingStar says that it is the only one and the last character.
	star         int
	trailingStar bool
	err          error
}

// lexer splits the filter text into tokens in one pass, counting characters
// for positions.
type lexer struct {
	src string
	off int // byte offset of the next character
	col int // its 1-based character position
}

// lex returns the tokens of text, ending with tEOF, or with tErr at the
// first lexical error (the parser reports it only if it gets that far, so
// errors come out in text order).
func lex(text string) []token {
	l := lexer{src: text, col: 1}
	var toks []token
	for {
		l.skipSpace()
		t := l.next()
		toks = append(toks, t)
		if t.kind == tEOF || t.kind == tErr {
			return toks
		}
	}
}

// isSpace reports whether c separates tokens. Only ASCII whitespace does, as
// in KQL.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isSpecial reports whether c ends an unquoted word.
func isSpecial(c byte) bool { return strings.IndexByte(`\():<>"{}`, c) >= 0 }

// advance moves past one character.
func (l *lexer) advance() {
	if l.src[l.off] < utf8.RuneSelf {
		l.off++
	} else {
		_, n := utf8.DecodeRuneInString(l.src[l.off:])
		l.off += n
	}
	l.col++
}

func (l *lexer) skipSpace() {
	for l.off < len(l.src) && isSpace(l.src[l.off]) {
		l.advance()
	}
}

func (l *lexer) next() token {
	t := token{pos: l.col, start: l.off}
	if l.off == len(l.src) {
		t.end = l.off
		return t
	}
	switch c := l.src[l.off]; {
	case punct(c) != tEOF:
		t.kind = punct(c)
		l.advance()
	case c == '<' || c == '>':
		t.kind, t.op = tOp, OpLT
		if c == '>' {
			t.op = OpGT
		}
		l.advance()
		if l.off < len(l.src) && l.src[l.off] == '=' {
			t.op++ // OpLTE follows OpLT, OpGTE follows OpGT
			l.advance()
		}
	case c == '"':
		return l.quoted(t)
	default:
		return l.word(t)
	}
	t.end = l.off
	return t
}

// punct returns the kind of a one-character token, tEOF for other
// characters.
func punct(c byte) tokKind {
	switch c {
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '{':
		return tLBrace
	case '}':
		return tRBrace
	case ':':
		return tColon
	}
	return tEOF
}

// quoted reads a double-quoted string. Inside it \" and \\ are escapes; any
// other backslash is an ordinary character, as in KQL.
func (l *lexer) quoted(t token) token {
	t.kind = tQuoted
	l.advance()
	from := l.off
	var b []byte // nil until an escape forces a copy
	for {
		if l.off == len(l.src) {
			return token{kind: tErr, pos: t.pos, err: errorf(t.pos, "unterminated quoted string")}
		}
		c := l.src[l.off]
		if c == '"' {
			break
		}
		if c == '\\' && l.off+1 < len(l.src) && (l.src[l.off+1] == '"' || l.src[l.off+1] == '\\') {
			if b == nil {
				b = append([]byte(nil), l.src[from:l.off]...)
			}
			b = append(b, l.src[l.off+1])
			l.advance()
			l.advance()
			continue
		}
		at := l.off
		l.advance()
		if b != nil {
			b = append(b, l.src[at:l.off]...)
		}
	}
	t.text = l.src[from:l.off]
	if b != nil {
		t.text = string(b)
	}
	l.advance() // closing quote
	t.end = l.off
	return t
}

// word reads an unquoted word: characters up to whitespace or a special
// character, where a backslash makes the next character ordinary.
func (l *lexer) word(t token) token {
	t.kind = tWord
	var b []byte // nil until an escape forces a copy
	stars, lastStar := 0, false
	for l.off < len(l.src) {
		c := l.src[l.off]
		if isSpace(c) || isSpecial(c) && c != '\\' {
			break
		}
		if c == '\\' {
			esc := l.col
			if b == nil {
				b = append([]byte(nil), l.src[t.start:l.off]...)
			}
			l.advance()
			if l.off == len(l.src) {
				return token{kind: tErr, pos: esc, err: errorf(esc, `'\' at the end of the filter escapes nothing`)}
			}
			at := l.off
			l.advance()
			b = append(b, l.src[at:l.off]...)
			t.escaped, lastStar = true, false
			continue
		}
		lastStar = c == '*'
		if lastStar {
			stars++
			if t.star == 0 {
				t.star = l.col
			}
		}
		at := l.off
		l.advance()
		if b != nil {
			b = append(b, l.src[at:l.off]...)
		}
	}
	t.end = l.off
	t.text = l.src[t.start:t.end]
	if b != nil {
		t.text = string(b)
	}
	t.trailingStar = lastStar && stars == 1
	return t
}
