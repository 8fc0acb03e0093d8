package index

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/internal/uuidtext"
	"pgregory.net/rapid"
)

// drawRefID draws a saved-object id: a canonical UUID from a small pool
// of shared leading bytes (so sorted neighbours share prefixes), an
// uppercase (non-canonical) UUID, or a short id.
func drawRefID(t *rapid.T) string {
	var u [16]byte
	copy(u[:], rapid.SampledFrom([][]byte{{0x9a, 0x0a, 0x3d, 0xe3}, {0x9a, 0x0a}, {0x00}, {0xff, 0xff, 0xff}}).Draw(t, "lead"))
	for i := range rapid.IntRange(0, 16).Draw(t, "random bytes") {
		u[15-i] = byte(rapid.IntRange(0, 255).Draw(t, "byte"))
	}
	id := uuidtext.Format(u[:])
	switch rapid.IntRange(0, 4).Draw(t, "id kind") {
	case 0:
		return strings.ToUpper(id)
	case 1:
		return rapid.SampledFrom([]string{"a-1", "c-9", "", "x\x00y", id[:35]}).Draw(t, "short id")
	default:
		return id
	}
}

// TestPackedDictionary builds the same rows in LayoutV4 and LayoutV6: the
// packed dictionary unpacks to LayoutV4's bytes exactly, and every term
// answers alike (against the model of rows per term).
func TestPackedDictionary(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		model := map[Term][]uint32{}
		v4, v6 := NewBuilderFor(LayoutV4), NewBuilderFor(LayoutV6)
		for row := range rapid.IntRange(1, 200).Draw(t, "rows") {
			var terms []Term
			for range rapid.IntRange(0, 4).Draw(t, "terms") {
				tm := Term{"event.action", rapid.SampledFrom([]string{"execute", "run"}).Draw(t, "action")}
				if rapid.IntRange(0, 3).Draw(t, "kind") > 0 {
					tm = Term{RefField, RefKey(drawRefID(t), rapid.SampledFrom([]string{"alert", "action", ""}).Draw(t, "type"),
						rapid.SampledFrom([]string{"default", "s2"}).Draw(t, "space"), rapid.Bool().Draw(t, "primary"))}
				}
				terms = append(terms, tm)
				if rs := model[tm]; len(rs) == 0 || rs[len(rs)-1] != uint32(row) {
					model[tm] = append(rs, uint32(row))
				}
			}
			if err := errors.Join(v4.Add(uint32(row), terms), v6.Add(uint32(row), terms)); err != nil {
				t.Fatal(err)
			}
		}
		p4, p6 := openBuilt(t, v4, enc, dec), openBuilt(t, v6, enc, dec)
		if !bytes.Equal(p4.dict, p6.dict) {
			t.Fatalf("the packed dictionary unpacks to other bytes than LayoutV4's")
		}
		if got, err := unpackDict(packDict(p4.dict)); err != nil || !bytes.Equal(got, p4.dict) {
			t.Fatalf("unpackDict(packDict(d)) != d: %v", err)
		}
		for tm, want := range model {
			bm, ok, err := p6.Lookup(tm)
			if err != nil || !ok || !slices.Equal(bm.ToArray(), want) {
				t.Fatalf("Lookup(%q) = %v, %v, %v; want %v", tm, bm, ok, err, want)
			}
		}
	})
}

// TestPackedKeySizes: a key whose id is a canonical UUID packs to 2 + 16 -
// shared bytes plus its type and space; any other key stays as it is,
// after its form byte.
func TestPackedKeySizes(t *testing.T) {
	const id = "9a0a3de3-2aa2-4914-b84d-fef884dadc2f"
	for name, c := range map[string]struct {
		key  string
		prev [16]byte
		want int
	}{
		"uuid, nothing shared": {RefKey(id, "alert", "default", true), [16]byte{}, 2 + 16 + 6 + 8},
		"uuid, 4 bytes shared": {RefKey(id, "alert", "default", true), [16]byte{0x9a, 0x0a, 0x3d, 0xe3}, 2 + 12 + 6 + 8},
		"uppercase uuid":       {RefKey(strings.ToUpper(id), "alert", "default", true), [16]byte{}, 1 + 1 + len(RefKey(id, "alert", "default", true))},
		"short id":             {RefKey("a-1", "alert", "default", false), [16]byte{}, 1 + 1 + len(RefKey("a-1", "alert", "default", false))},
		"length not minimal":   {"\xa4\x00" + RefKey(id, "alert", "default", true)[1:], [16]byte{}, 1 + 1 + 1 + len(RefKey(id, "alert", "default", true))},
	} {
		prev := c.prev
		if got := packKey(nil, []byte(c.key), &prev); len(got) != c.want {
			t.Errorf("%s: %d bytes (% x), want %d", name, len(got), got, c.want)
		}
	}
}

// packedOf returns the packed dictionary of one ref term on row 0.
func packedOf(t testing.TB, key string) []byte {
	t.Helper()
	b := NewBuilderFor(LayoutV4)
	if err := b.Add(0, []Term{{RefField, key}}); err != nil {
		t.Fatal(err)
	}
	terms, lists, err := b.sorted()
	if err != nil {
		t.Fatal(err)
	}
	dict, err := b.encode(terms, lists, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	return packDict(dict)
}

// TestUnpackDictDamage: a damaged packed dictionary is an error naming the
// problem and its byte, never a panic or a wrong key.
func TestUnpackDictDamage(t *testing.T) {
	good := packedOf(t, RefKey("9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "alert", "default", true))
	// good: uvarint(1) string(RefField) uvarint(1), then the entry: form,
	// shared, 16 bytes, type, space, card 1, row 0.
	entry := 1 + 1 + len(RefField) + 1
	set := func(at int, v byte) []byte { b := slices.Clone(good); b[at] = v; return b }
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"unknown form":    {set(entry, 7), "form 7"},
		"shared past 15":  {set(entry+1, 16), "shares 16 bytes"},
		"cut in the uuid": {good[:entry+10], "byte"},
		"cut in type":     {good[:entry+19], "byte"},
		"trailing bytes":  {append(slices.Clone(good), 0), "trailing bytes"},
		"no entries":      {good[:entry], "byte"},
	} {
		_, err := unpackDict(c.b)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want corruption saying %q", name, err, c.want)
		}
	}
	if _, err := unpackDict(good); err != nil {
		t.Fatalf("the good dictionary: %v", err)
	}
}

// FuzzUnpackDict: any bytes unpack to a dictionary or an ErrCorrupt
// error, never a panic; a packed dictionary that unpacks packs back to
// itself when the writer made it.
func FuzzUnpackDict(f *testing.F) {
	f.Add(packedOf(f, RefKey("9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "alert", "default", true)))
	f.Add(packedOf(f, RefKey("a-1", "action", "s2", false)))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := unpackDict(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if len(out) > MaxDictBytes {
			t.Fatalf("%d bytes unpacked", len(out))
		}
	})
}
