package filter

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// message is the one text field. Its text, and the value searched for, are
// split into words: maximal runs of Unicode letters and digits. Words compare
// under simple Unicode case folding (as strings.EqualFold does), through a
// folded form in which every rune is replaced by the smallest rune of its
// folding orbit: two words are equal under EqualFold exactly when their
// folded forms are equal bytes.

// textQuery is a compiled value on message.
type textQuery struct {
	words []string // folded; a value with no words matches nothing
	// phrase: the words must appear consecutively (a quoted value); fail is
	// the Knuth-Morris-Pratt failure table over words, so the search is
	// linear in the message.
	phrase bool
	fail   []int
	// need indexes the distinct words that must each appear somewhere (an
	// unquoted value; for a prefix, all but the last word).
	need map[string]int
	// prefix, when set, must begin some word (the last word of a prefix).
	prefix    []byte
	hasPrefix bool
}

func newTextQuery(value string, phrase, prefix bool) *textQuery {
	q := &textQuery{words: foldWords(value), phrase: phrase && !prefix}
	if len(q.words) == 0 {
		return q
	}
	if q.phrase {
		q.fail = failTable(q.words)
		return q
	}
	required := q.words
	if prefix {
		q.prefix, q.hasPrefix = []byte(q.words[len(q.words)-1]), true
		required = required[:len(required)-1]
	}
	q.need = map[string]int{}
	for _, w := range required {
		if _, ok := q.need[w]; !ok {
			q.need[w] = len(q.need)
		}
	}
	return q
}

// match reports whether the message text satisfies the query.
func (q *textQuery) match(text string) bool {
	if len(q.words) == 0 {
		return false
	}
	if q.phrase {
		return q.matchPhrase(text)
	}
	return q.matchWords(text)
}

func (q *textQuery) matchWords(text string) bool {
	var small uint64 // seen words when there are at most 64
	var big []bool
	if len(q.need) > 64 {
		big = make([]bool, len(q.need))
	}
	found, prefixOK := 0, !q.hasPrefix
	var arr [64]byte
	buf := arr[:0]
	for i := 0; ; {
		start, end := nextWord(text, i)
		if start == end {
			return false
		}
		i = end
		buf = appendFold(buf[:0], text[start:end])
		if !prefixOK && bytes.HasPrefix(buf, q.prefix) {
			prefixOK = true
		}
		if k, ok := q.need[string(buf)]; ok {
			if big != nil && !big[k] {
				big[k] = true
				found++
			} else if big == nil && small&(1<<k) == 0 {
				small |= 1 << k
				found++
			}
		}
		if prefixOK && found == len(q.need) {
			return true
		}
	}
}

func (q *textQuery) matchPhrase(text string) bool {
	var arr [64]byte
	buf := arr[:0]
	k := 0 // words of the phrase matched so far
	for i := 0; ; {
		start, end := nextWord(text, i)
		if start == end {
			return false
		}
		i = end
		buf = appendFold(buf[:0], text[start:end])
		for k > 0 && string(buf) != q.words[k] {
			k = q.fail[k-1]
		}
		if string(buf) == q.words[k] {
			k++
		}
		if k == len(q.words) {
			return true
		}
	}
}

// failTable is the KMP failure function: fail[i] is the length of the
// longest proper prefix of words[:i+1] that is also its suffix.
func failTable(words []string) []int {
	fail := make([]int, len(words))
	k := 0
	for i := 1; i < len(words); i++ {
		for k > 0 && words[i] != words[k] {
			k = fail[k-1]
		}
		if words[i] == words[k] {
			k++
		}
		fail[i] = k
	}
	return fail
}

// foldWords returns the folded words of s.
func foldWords(s string) []string {
	var out []string
	for i := 0; ; {
		start, end := nextWord(s, i)
		if start == end {
			return out
		}
		i = end
		out = append(out, string(appendFold(nil, s[start:end])))
	}
}

// nextWord returns the bounds of the first word of s at or after byte i;
// start == end when there is none.
func nextWord(s string, i int) (start, end int) {
	for i < len(s) {
		r, n := decodeRune(s, i)
		if isWordRune(r) {
			break
		}
		i += n
	}
	start = i
	for i < len(s) {
		r, n := decodeRune(s, i)
		if !isWordRune(r) {
			break
		}
		i += n
	}
	return start, i
}

func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// appendFold appends the folded form of w to dst.
func appendFold(dst []byte, w string) []byte {
	for _, r := range w {
		dst = utf8.AppendRune(dst, foldRune(r))
	}
	return dst
}

// foldRune returns the smallest rune of r's simple case-folding orbit.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A' // the orbits of k and s hold larger runes too
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
