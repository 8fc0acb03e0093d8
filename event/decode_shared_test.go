package event

import (
	"bytes"
	"os"
	"testing"
)

// FuzzDecodeShared checks that a shared decode (DecodeOptions.Shared) reads
// every document exactly as the copying one does: the same error, or an
// event with the same binary form.
func FuzzDecodeShared(f *testing.F) {
	for _, s := range keptSeeds {
		f.Add([]byte(s), true)
	}
	if typical, err := os.ReadFile("testdata/typical-event.json"); err == nil {
		f.Add(typical, false)
	}
	f.Add([]byte(`{"message":"a \"quoted\" \u00e9 value","event":{"action":"x"}}`), false)
	f.Fuzz(func(t *testing.T, data []byte, keep bool) {
		opts := DecodeOptions{KeepUnknown: keep}
		want, werr := DecodeWith(data, opts)
		opts.Shared = true
		doc := bytes.Clone(data)
		got, gerr := DecodeWith(doc, opts)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("copying decode: %v; shared: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		wantBin, gotBin := AppendBinary(nil, &want), AppendBinary(nil, &got)
		if !bytes.Equal(wantBin, gotBin) {
			t.Fatalf("shared decode differs:\ncopying %x\nshared  %x", wantBin, gotBin)
		}
	})
}
