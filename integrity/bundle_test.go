package integrity

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// provenLog makes a log of n events and returns it with the events, their
// proofs against a signed head, and the head.
func provenLog(t testing.TB, n int) (*Log, []ProofDoc, SignedHead) {
	l, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]event.Event, n)
	ds := make([]Hash, n)
	for i := range evs {
		evs[i].Message = fmt.Sprintf("event %d", i)
		evs[i].Event.Provider, evs[i].Event.Action = "p", "a"
		ds[i] = Digest(event.AppendBinary(nil, &evs[i]))
	}
	l.Commit(1, ds)
	l.Durable(uint64(n))
	h, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]ProofDoc, n)
	for i := range evs {
		p, err := l.Inclusion(uint64(i+1), h.Size)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = NewProofDoc(fmt.Sprint(i+1), &evs[i], p, nil)
	}
	return l, docs, h
}

// TestProofBitFlips: every proof verifies, and a single bit changed in
// the event's binary form, the salt, a proof hash, the leaf index or the
// head's root makes it fail.
func TestProofBitFlips(t *testing.T) {
	l, docs, h := provenLog(t, 77)
	defer l.Close()
	for _, d := range docs {
		if err := d.Verify(h.Head); err != nil {
			t.Fatal(err)
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		d := docs[rapid.IntRange(0, len(docs)-1).Draw(rt, "event")]
		d.Hashes = append([]Hash(nil), d.Hashes...)
		head := h.Head
		flip := func(b []byte) {
			bit := rapid.IntRange(0, len(b)*8-1).Draw(rt, "bit")
			b[bit/8] ^= 1 << (bit % 8)
		}
		what := rapid.SampledFrom([]string{"event", "salt", "hash", "leaf", "root"}).Draw(rt, "what")
		switch what {
		case "event":
			ev, _ := event.Decode(d.Event, event.Limits{})
			bin := event.AppendBinary(nil, &ev)
			flip(bin)
			changed, err := event.DecodeBinary(bin)
			if err != nil {
				return // no longer an event: nothing to prove
			}
			d.Event = event.AppendJSON(nil, &changed)
		case "salt":
			b := []byte(d.Salt)
			s := make([]byte, SaltSize)
			fmt.Sscanf(string(b), "%x", &s)
			flip(s)
			d.Salt = fmt.Sprintf("%x", s)
		case "hash":
			flip(d.Hashes[rapid.IntRange(0, len(d.Hashes)-1).Draw(rt, "which")][:])
		case "leaf":
			d.LeafIndex ^= 1 << rapid.IntRange(0, 6).Draw(rt, "leafbit")
			if d.LeafIndex >= d.TreeSize {
				return // out of the tree: refused by the library
			}
		case "root":
			flip(head.Root[:])
		}
		if err := d.Verify(head); err == nil {
			rt.Fatalf("a proof with its %s changed verified", what)
		}
	})
}

func TestBundleRoundTripAndTamper(t *testing.T) {
	l, docs, h := provenLog(t, 10)
	defer l.Close()
	var buf bytes.Buffer
	bw, err := NewBundleWriter(&buf, l.PublicKey(), h, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := bw.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyBundle(bytes.NewReader(buf.Bytes()), l.PublicKey())
	if err != nil || len(rep.Problems) != 0 || rep.Events != 10 || rep.Head.Size != 10 {
		t.Fatalf("clean bundle: %+v %v", rep, err)
	}
	tampered := bytes.Replace(buf.Bytes(), []byte("event 7"), []byte("event 8"), 1)
	rep, err = VerifyBundle(bytes.NewReader(tampered), l.PublicKey())
	if err != nil || len(rep.Problems) != 1 || !bytes.Contains([]byte(rep.Problems[0]), []byte("line 8")) {
		t.Fatalf("tampered event: %+v %v", rep.Problems, err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	rep, err = VerifyBundle(bytes.NewReader(buf.Bytes()), other)
	if err != nil || len(rep.Problems) != 2 {
		t.Fatalf("another trusted key: %+v %v", rep.Problems, err)
	}
}

// FuzzVerifyBundle: reading a bundle never panics.
func FuzzVerifyBundle(f *testing.F) {
	l, docs, h := provenLog(f, 3)
	defer l.Close()
	var buf bytes.Buffer
	bw, _ := NewBundleWriter(&buf, l.PublicKey(), h, time.Unix(0, 0))
	for _, d := range docs {
		bw.Add(d)
	}
	bw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		VerifyBundle(bytes.NewReader(b), nil)
	})
}
