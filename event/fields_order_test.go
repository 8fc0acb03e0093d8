package event

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"pgregory.net/rapid"
)

// TestFieldTableMatchesStruct checks that the field table lists exactly the
// leaves of Event, in struct order, so that AppendJSON (driven by the table)
// writes keys in the same order as json.Marshal.
func TestFieldTableMatchesStruct(t *testing.T) {
	var names []string
	leafTypes := map[reflect.Type]bool{
		reflect.TypeFor[Date](): true, reflect.TypeFor[StringList](): true,
		reflect.TypeFor[*Duration](): true, reflect.TypeFor[map[string]string](): true,
		reflect.TypeFor[[]SavedObject](): true,
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if sf.Type == reflect.TypeFor[Extra]() {
				name = ExtraFieldName // no JSON key of its own: written in place
			}
			path := prefix + name
			if sf.Type.Kind() == reflect.Struct && !leafTypes[sf.Type] && sf.Type != reflect.TypeFor[Extra]() {
				walk(path+".", sf.Type)
				continue
			}
			names = append(names, path)
		}
	}
	walk("", reflect.TypeFor[Event]())
	var table []string
	for _, f := range Fields() {
		table = append(table, f.Name)
	}
	if !reflect.DeepEqual(names, table) {
		t.Fatalf("struct leaves:\n%v\nfield table:\n%v", names, table)
	}
}

func TestFieldAccessorsMatchKinds(t *testing.T) {
	for _, f := range Fields() {
		set := map[Kind]bool{KindString: f.Str != nil, KindIP: f.Str != nil, KindStrings: f.List != nil,
			KindDate: f.Date != nil, KindInt: f.Int != nil, KindFloat: f.Float != nil}
		if ok, known := set[f.Kind]; known && !ok {
			t.Errorf("field %s: kind %d has no accessor", f.Name, f.Kind)
		}
		if FieldByID(f.ID) == nil || FieldByID(f.ID).Name != f.Name {
			t.Errorf("field %s: lookup by id mismatch", f.Name)
		}
		if byName := FieldByName(f.Name); (f.Kind == KindExtra) != (byName == nil) || byName != nil && byName.ID != f.ID {
			t.Errorf("field %s: lookup by name mismatch (the kept fields have no name)", f.Name)
		}
	}
}

func TestSlotsMatchAccessors(t *testing.T) {
	e := new(Event)
	for i := range fields {
		if got, want := slots[i].ptr(e), fieldPtr(e, &fields[i]); got != want {
			t.Errorf("field %s: slot address %p, accessor address %p", fields[i].Name, got, want)
		}
		if slots[i].kind != fields[i].Kind || fields[i].Kind != KindExtra && tree.leaf[i].slot != slots[i] {
			t.Errorf("field %s: slot kind or tree slot mismatch", fields[i].Name)
		}
	}
}

// TestPresencesMatchPresent checks AppendBinary's first look at each field
// (presences) against present and finite: it never calls a present field
// absent, and settles it alone only where it is exact.
func TestPresencesMatchPresent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		if rapid.Bool().Draw(t, "empty labels") {
			e.Labels = map[string]string{}
		}
		base := unsafe.Pointer(&e)
		for i := range slots {
			p, s := &presences[i], slots[i]
			want := s.present(&e) && s.finite(&e)
			got := p.maybe(base) && (!p.exact || want)
			if got != want {
				t.Fatalf("field %s: presence says %v, present and finite %v", fields[i].Name, got, want)
			}
		}
	})
}

// TestPropertyMaybePresent checks the branch-free gathering of presence
// words (maybePresent) against asking maybe of each field in turn: the
// same fields, at their positions in the table.
func TestPropertyMaybePresent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		base := unsafe.Pointer(&e)
		var want fieldSet
		for i := range presences {
			if presences[i].maybe(base) {
				want[i/64] |= 1 << (i % 64)
			}
		}
		if got := maybePresent(base); got != want {
			t.Fatalf("maybePresent = %x, want %x", got, want)
		}
	})
}
