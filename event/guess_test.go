package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyKeyIs checks keyIs against its definition: at any offset of
// any input, it consumes `"key":` and the whitespace after it exactly when
// the input there starts with them, else nothing.
func TestPropertyKeyIs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 20).Draw(t, "len") // every length, around 8 and 16 with the quotes and colon
		key := rapid.StringOfN(rapid.SampledFrom([]rune("ab_@")), n, n, -1).Draw(t, "key")
		k := newKeyColon(key)
		var b []byte
		b = append(b, rapid.SliceOfN(rapid.SampledFrom([]byte(`ab"_: `)), 0, 6).Draw(t, "before")...)
		at := len(b)
		text := k.text
		if rapid.Bool().Draw(t, "near") { // the key with one byte changed, dropped or added
			i := rapid.IntRange(0, len(text)-1).Draw(t, "i")
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0:
				text = text[:i] + "x" + text[i+1:]
			case 1:
				text = text[:i] + text[i+1:]
			default:
				text = text[:i] + "z" + text[i:]
			}
		}
		b = append(b, text...)
		b = append(b, rapid.SliceOfN(rapid.SampledFrom([]byte("a: \t\n\"{")), 0, 12).Draw(t, "after")...)
		b = b[:rapid.IntRange(at, len(b)).Draw(t, "end")]
		s := scanner{data: b, text: string(b), i: at}
		want, wantAt := bytes.HasPrefix(b[at:], []byte(k.text)), at
		if want {
			wantAt += len(k.text)
			for wantAt < len(b) && strings.IndexByte(" \t\n\r", b[wantAt]) >= 0 {
				wantAt++
			}
		}
		if got := s.keyIs(&k); got != want || s.i != wantAt {
			t.Fatalf("keyIs(%q) on %q at %d = %v, offset %d; want %v, offset %d", k.text, b, at, got, s.i, want, wantAt)
		}
	})
}

// TestKeysPlain checks what keyIs needs of the schema's keys: each is
// plain (ASCII, no control character, no quote or backslash), so that
// the input holds `"key":` exactly when memberKey would read the key.
func TestKeysPlain(t *testing.T) {
	for _, n := range tree.objects {
		for key, c := range n.children {
			for i := 0; i < len(key); i++ {
				if !plainASCII[key[i]] {
					t.Fatalf("key %q of %q is not plain", key, n.path)
				}
			}
			if c.key.text != `"`+key+`":` {
				t.Fatalf("key %q of %q is guessed as %q", key, n.path, c.key.text)
			}
		}
	}
}

// TestPropertyGuessedKeys checks that guessing keys changes nothing: one
// Decoder reads a stream of documents whose members come in random
// orders, some keys escaped, spaced from their colon, repeated, unknown,
// or nearly a key of the schema, and decodes each as DecodeWith (which
// guesses nothing) does: the same event or the same error.
func TestPropertyGuessedKeys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := DecodeOptions{KeepUnknown: rapid.Bool().Draw(t, "keep"), Shared: true}
		x := NewDecoder(opts)
		for i := range rapid.IntRange(1, 12).Draw(t, "docs") {
			e := genEvent().Draw(t, "event")
			doc := rewriteJSON(t, AppendJSON(nil, &e))
			if rapid.IntRange(0, 9).Draw(t, "cut") == 0 {
				doc = doc[:rapid.IntRange(0, len(doc)).Draw(t, "at")]
			}
			want, werr := DecodeWith(bytes.Clone(doc), opts)
			got, gerr := x.Next(doc)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("document %d %s: DecodeWith: %v; Decoder: %v", i, doc, werr, gerr)
			}
			if werr == nil && !reflect.DeepEqual(*got, want) {
				t.Fatalf("document %d %s decodes to\n%#v\nwant\n%#v", i, doc, *got, want)
			}
		}
	})
}

// rewriteJSON writes the JSON document doc again with its objects'
// members shuffled, and drawn changes to their keys.
func rewriteJSON(t *rapid.T, doc []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out []byte
	if err := rewriteValue(t, dec, &out); err != nil {
		t.Fatalf("rewrite %s: %v", doc, err)
	}
	return out
}

// rewriteValue copies the next value of dec to out, rewriting objects.
func rewriteValue(t *rapid.T, dec *json.Decoder, out *[]byte) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return rewriteObject(t, dec, out)
		}
		*out = append(*out, '[')
		for i := 0; dec.More(); i++ {
			if i > 0 {
				*out = append(*out, ',')
			}
			if err := rewriteValue(t, dec, out); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		*out = append(*out, ']')
		return err
	case json.Number:
		*out = append(*out, v...)
	default:
		lit, err := json.Marshal(v)
		if err != nil {
			return err
		}
		*out = append(*out, lit...)
	}
	return nil
}

// rewriteObject copies an object's members (its '{' read) to out in a
// drawn order, each key as it was or drawn changes of it.
func rewriteObject(t *rapid.T, dec *json.Decoder, out *[]byte) error {
	var keys []string
	var vals [][]byte
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var val []byte
		if err := rewriteValue(t, dec, &val); err != nil {
			return err
		}
		keys, vals = append(keys, tok.(string)), append(vals, val)
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	order := rapid.Permutation(keysOrder(len(keys))).Draw(t, "order")
	if rapid.IntRange(0, 3).Draw(t, "inOrder") > 0 { // mostly the order guessed
		order = keysOrder(len(keys))
	}
	*out = append(*out, '{')
	for i, j := range order {
		if i > 0 {
			*out = append(*out, ',')
		}
		*out = append(*out, drawKey(t, keys[j])...)
		*out = append(*out, vals[j]...)
		if rapid.IntRange(0, 15).Draw(t, "repeat") == 0 {
			*out = append(*out, ',')
			*out = append(*out, drawKey(t, keys[j])...)
			*out = append(*out, vals[j]...)
		}
	}
	*out = append(*out, '}')
	return nil
}

func keysOrder(n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// drawKey returns key and its colon as written, mostly plain, else with
// a byte escaped, spaces around the colon, or a changed key.
func drawKey(t *rapid.T, key string) string {
	quoted := func(s string) string {
		q, _ := json.Marshal(s)
		return string(q)
	}
	switch rapid.IntRange(0, 11).Draw(t, "key") {
	case 0:
		if i := strings.IndexAny(key, "abcdefghijklmnopqrstuvwxyz_@"); i >= 0 {
			before := quoted(key[:i])
			return before[:len(before)-1] + fmt.Sprintf(`\u%04x`, key[i]) + quoted(key[i+1:])[1:] + ":"
		}
	case 1:
		return quoted(key) + " : "
	case 2:
		return quoted(key+"x") + ":"
	case 3:
		if key != "" {
			return quoted(key[:len(key)-1]) + ":"
		}
	}
	return quoted(key) + ":"
}
