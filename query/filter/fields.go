package filter

import (
	"fmt"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// Names of the fields the language treats specially.
const (
	messageName = "message"
	labelsName  = "labels"
	refsName    = "kibana.saved_objects"
)

// The special fields, looked up once; read-only.
var (
	messageField = event.FieldByName(messageName)
	labelsField  = event.FieldByName(labelsName)
	refsField    = event.FieldByName(refsName)
	// extraField holds the kept unknown fields; a Path on it names the
	// kept field's dotted path in Sub.
	extraField = event.FieldByID(event.ExtraFieldID)
)

// refProps are the properties of a saved-object ref a filter can name, in
// the order messages list them.
var refProps = [...]string{"type", "id", "rel", "namespace", "type_id"}

// refPropList is refProps for messages.
const refPropList = "type, id, rel, namespace or type_id"

func isRefProp(s string) bool {
	for _, p := range refProps {
		if s == p {
			return true
		}
	}
	return false
}

// refProp returns the getter of a ref property. A ref without a namespace is
// in the default space, so namespace reads SavedObject.Space; exists reads
// the raw property (see refRaw).
func refProp(prop string) func(*event.SavedObject) string {
	switch prop {
	case "type":
		return func(r *event.SavedObject) string { return r.Type }
	case "id":
		return func(r *event.SavedObject) string { return r.ID }
	case "rel":
		return func(r *event.SavedObject) string { return r.Rel }
	case "namespace":
		return func(r *event.SavedObject) string { return r.Space() }
	case "type_id":
		return func(r *event.SavedObject) string { return r.TypeID }
	}
	return nil
}

// refRaw returns the getter of a ref property as stored (namespace empty for
// the default space).
func refRaw(prop string) func(*event.SavedObject) string {
	if prop == "namespace" {
		return func(r *event.SavedObject) string { return r.Namespace }
	}
	return refProp(prop)
}

// resolve turns the field token of field:... into a Path. Inside a nested
// query only the ref properties are fields. A name outside the schema that
// a document may hold as a kept field (event.CanKeep) is one, evaluated on
// the stored values; on events without it, it matches nothing.
func resolve(ft token, nested bool) (Path, error) {
	name := ft.text
	if nested {
		if isRefProp(name) {
			return Path{Field: refsField, Sub: name}, nil
		}
		return Path{}, errorf(ft.pos, "unknown field %s inside %s:{...} (expected %s)", quoteName(name), refsName, refPropList)
	}
	if f := event.FieldByName(name); f != nil {
		return Path{Field: f}, nil
	}
	if key, ok := strings.CutPrefix(name, labelsName+"."); ok {
		if key == "" {
			return Path{}, errorf(ft.pos, "empty label key in %s", quoteName(name))
		}
		return Path{Field: labelsField, Sub: key}, nil
	}
	if prop, ok := strings.CutPrefix(name, refsName+"."); ok {
		if isRefProp(prop) {
			return Path{Field: refsField, Sub: prop}, nil
		}
		return Path{}, errorf(ft.pos, "unknown saved-object property %s in %s (expected %s)", quoteName(prop), quoteName(name), refPropList)
	}
	if event.CanKeep(name) {
		return Path{Field: extraField, Sub: name}, nil
	}
	return Path{}, errorf(ft.pos, "unknown field %s (nearest: %s)", quoteName(name), strings.Join(nearest(name, 3), ", "))
}

// quoteName quotes a name for a message, cut short so that a 16 KiB name
// does not make a 16 KiB message.
func quoteName(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
