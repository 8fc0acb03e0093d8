package event

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// refByMembers is decoder.ref as it was before it guessed keys (read
// every key, look it up in refKeys): the model ref must agree with.
func refByMembers(d *decoder, name string, idx int) (SavedObject, error) {
	var r SavedObject
	if d.peek() != '{' {
		return r, d.wrongType(indexPath(name, idx), "an object")
	}
	dst := refFields(&r)
	var seen uint8
	err := d.members(func(key string, off int) error {
		k := refKey(key)
		if k < 0 {
			return fieldErr(indexPath(name, idx)+"."+key, off, ErrUnknownField, "unknown field")
		}
		if seen&(1<<k) != 0 {
			return fieldErr(indexPath(name, idx)+"."+key, off, ErrSyntax, "duplicate field")
		}
		seen |= 1 << k
		if d.peek() == 'n' {
			return d.skipNull()
		}
		s, err := d.stringValue("", "a string")
		if err != nil {
			return setPath(err, indexPath(name, idx)+"."+key)
		}
		*dst[k] = s
		return nil
	})
	return r, err
}

// TestPropertyRefAsMembers: on a saved-object ref written with its keys
// in order or not, escaped, spaced, repeated, unknown or nearly known,
// with string, null or other values, and cut anywhere, ref returns what
// refByMembers does: the same ref, error and offset after it.
func TestPropertyRefAsMembers(t *testing.T) {
	values := []string{`"a"`, `"primary"`, `null`, `""`, `7`, `"\u00e9"`, `nul`, `{}`}
	rapid.Check(t, func(t *rapid.T) {
		b, next := []byte(`{`), rapid.IntRange(0, len(refKeys)-1).Draw(t, "first")
		for i := range rapid.IntRange(0, 7).Draw(t, "members") {
			if i > 0 {
				b = append(b, rapid.SampledFrom([]string{",", ", ", " ,"}).Draw(t, "comma")...)
			}
			key := refKeys[next%len(refKeys)] // mostly the order guessed
			if rapid.IntRange(0, 3).Draw(t, "inOrder") == 0 {
				key = rapid.SampledFrom(append(refKeys[:], "typ", "Type", "x")).Draw(t, "key")
			}
			next = refKey(key) + 1
			b = append(b, drawKey(t, key)...)
			b = append(b, rapid.SampledFrom(values).Draw(t, "value")...)
		}
		b = append(b, rapid.SampledFrom([]string{"}", " }", "]", ""}).Draw(t, "end")...)
		b = b[:rapid.IntRange(1, len(b)).Draw(t, "cut")]
		lim := Limits{}.withDefaults()
		fast := decoder{scanner: scanner{data: b, text: string(b)}, lim: lim}
		slow := decoder{scanner: scanner{data: b, text: string(b)}, lim: lim}
		got, err := fast.ref("kibana.saved_objects", 2)
		want, wantErr := refByMembers(&slow, "kibana.saved_objects", 2)
		if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || fast.i != slow.i {
			t.Fatalf("%s: ref gives %+v, %v, offset %d; by members %+v, %v, offset %d", b, got, err, fast.i, want, wantErr, slow.i)
		}
	})
}
