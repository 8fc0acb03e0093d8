package privacy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// TestKeptFieldsCannotSmuggle: with fields kept outside the schema, a
// pseudonymised field's value never reaches the stored event in the clear.
// Every way of writing each pseudonymised path — nested objects, a dotted
// key at any level, with the value alone or inside an object — either
// decodes into the typed field, which the Pseudonymizer replaces, or is
// refused; fields that are truly unknown are kept as sent.
func TestKeptFieldsCannotSmuggle(t *testing.T) {
	p := mustNew(t, nil)
	const secret = "alice.secret@example.com"
	for _, name := range p.Fields() {
		segs := strings.Split(name, ".")
		for split := 1; split <= len(segs); split++ {
			for _, value := range []string{`"` + secret + `"`, `{"first":"` + secret + `"}`, `["` + secret + `"]`} {
				// segs[:split-1] as nested objects, the rest as one dotted key.
				doc := `{"` + strings.Join(segs[split-1:], ".") + `":` + value + `}`
				for i := split - 2; i >= 0; i-- {
					doc = `{"` + segs[i] + `":` + doc + `}`
				}
				ev, err := event.DecodeWith([]byte(doc), event.DecodeOptions{KeepUnknown: true})
				if err != nil {
					if !errors.Is(err, event.ErrUnknownField) && !errors.Is(err, event.ErrWrongType) {
						t.Errorf("%s: refused with %v", doc, err)
					}
					continue
				}
				if err := p.Check(&ev); err != nil {
					t.Errorf("%s: Check: %v", doc, err)
					continue
				}
				out := event.AppendJSON(nil, p.Event(&ev))
				if strings.Contains(string(out), "alice") {
					t.Errorf("%s is stored as %s: the value is in the clear", doc, out)
				}
			}
		}
	}

	ev, err := event.DecodeWith([]byte(`{"user":{"name":"alice","nick":"al"},"host":{"ip":"10.0.0.1"}}`), event.DecodeOptions{KeepUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	out := string(event.AppendJSON(nil, p.Event(&ev)))
	if strings.Contains(out, `"alice"`) || !strings.Contains(out, `"nick":"al"`) || !strings.Contains(out, `"host":{"ip":"10.0.0.1"}`) {
		t.Errorf("stored %s: want user.name pseudonymised and the unknown fields kept", out)
	}
}
