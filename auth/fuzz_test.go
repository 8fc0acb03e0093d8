package auth

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodeFile checks the key file decoder: no input makes it panic,
// and every file it accepts holds only keys a spec could have made, which
// encode and decode again to the same keys.
func FuzzDecodeFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"keys":[{"id":"a","name":"n","role":"admin","spaces":["team-a"],"created":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}`))
	f.Add([]byte(`{"version":1,"keys":[]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := decodeFile(data)
		if err != nil {
			return
		}
		for _, e := range set.order {
			spec := Spec{Name: e.key.Name, Role: e.key.Role, Spaces: e.key.Spaces}
			if err := spec.validate(); err != nil || e.key.ID == "" || set.byID[e.key.ID] != e {
				t.Fatalf("accepted key %+v: %v", e.key, err)
			}
		}
		f := keyFile{Version: fileVersion}
		for _, e := range set.order {
			f.Keys = append(f.Keys, record{Key: e.key, Hash: e.hash})
		}
		again, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		set2, err := decodeFile(again)
		if err != nil || len(set2.order) != len(set.order) {
			t.Fatalf("re-encoded file refused: %v", err)
		}
		for i, e := range set2.order {
			o := set.order[i]
			if e.key.ID != o.key.ID || e.hash != o.hash || !e.key.Expires.Equal(o.key.Expires) || e.key.Active(time.Time{}) != o.key.Active(time.Time{}) {
				t.Fatalf("key %d changed: %+v, was %+v", i, e.key, o.key)
			}
		}
	})
}
