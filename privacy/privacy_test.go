package privacy_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/query/filter"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func mustNew(t testing.TB, fields []string) *privacy.Pseudonymizer {
	t.Helper()
	p, err := privacy.New(key, fields)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The pseudonym is the HMAC-SHA256 of the value, computed here
// independently, in lower-case unpadded base32 after the prefix.
func TestValueIsHMAC(t *testing.T) {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("alice"))
	want := "pseu:v1:" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)))
	p := mustNew(t, nil)
	if got := p.Value("alice"); got != want || !event.IsPseudonym(got) {
		t.Fatalf("Value(alice) = %s, want %s", got, want)
	}
	other, _ := privacy.New([]byte(strings.Repeat("k", 32)), nil)
	if other.Value("alice") == want {
		t.Fatal("two keys gave one pseudonym")
	}
}

func TestEvent(t *testing.T) {
	p := mustNew(t, nil)
	in := &event.Event{Message: "alice logged in"}
	in.User.Name, in.User.FullName, in.Source.IP, in.Client.IP = "alice", "Alice Liddell", "0:0:0:0:0:0:0:1", "::1"
	in.Event.Action = "alice"
	out := p.Event(in)
	if in.User.Name != "alice" || in.Source.IP != "0:0:0:0:0:0:0:1" {
		t.Fatal("the caller's event was modified")
	}
	if out.User.Name != p.Value("alice") || out.Source.IP != p.Value("::1") || out.Client.IP != out.Source.IP {
		t.Fatalf("pseudonymised: %+v %+v", out.User, out.Source)
	}
	if out.User.FullName != "Alice Liddell" || out.Event.Action != "alice" || out.Message != "alice logged in" {
		t.Fatal("a field not in the list was changed")
	}
	if again := p.Event(out); again != out {
		t.Fatal("pseudonyms were pseudonymised again")
	}
	plain := &event.Event{}
	plain.Event.Action = "x"
	if p.Event(plain) != plain {
		t.Fatal("an event without personal fields was copied")
	}
	var none *privacy.Pseudonymizer
	if none.Event(in) != in || none.Check(&event.Event{Event: event.EventFields{Original: "x"}}) != nil {
		t.Fatal("a nil Pseudonymizer changed something")
	}
	if err := p.Check(&event.Event{Event: event.EventFields{Original: `{"user":{"name":"alice"}}`}}); !errors.Is(err, privacy.ErrOriginal) {
		t.Fatalf("event.original: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	for fields, want := range map[string]string{
		"message":       "free text cannot be pseudonymised",
		"error.message": "free text cannot be pseudonymised",
		"user.nmae":     `"user.nmae": no such field`,
		"event.created": "only keyword and IP fields",
	} {
		if _, err := privacy.New(key, []string{fields}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", fields, err, want)
		}
	}
	if _, err := privacy.New(key[:31], nil); err == nil || !strings.Contains(err.Error(), "31 bytes") {
		t.Errorf("a short key: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	for _, f := range []string{filepath.Join(dir, "key"), filepath.Join(data, "key")} {
		if err := os.WriteFile(f, append(append([]byte(nil), key...), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k, err := privacy.LoadKey(filepath.Join(dir, "key"), data)
	if err != nil || string(k) != string(key) {
		t.Fatalf("LoadKey: %q, %v", k, err)
	}
	if _, err := privacy.LoadKey(filepath.Join(data, "key"), data); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("a key in the data directory: %v", err)
	}
	if _, err := privacy.LoadKey(filepath.Join(data, "..", "data", "key"), data+"/"); err == nil {
		t.Fatal("a key in the data directory, by another path, was taken")
	}
}

func TestReveal(t *testing.T) {
	p := mustNew(t, nil)
	ps := p.Value("bob")
	for _, c := range []struct {
		field, candidate, pseudonym string
		want                        bool
	}{
		{"user.name", "bob", ps, true},
		{"user.name", "alice", ps, false},
		{"source.ip", "0:0:0:0:0:0:0:1", p.Value("::1"), true},
	} {
		if got, err := p.Reveal(c.field, c.candidate, c.pseudonym); err != nil || got != c.want {
			t.Errorf("Reveal(%s, %s) = %v, %v; want %v", c.field, c.candidate, got, err, c.want)
		}
	}
	if _, err := p.Reveal("user.name", "bob", "bob"); err == nil {
		t.Error("a value that is no pseudonym was accepted")
	}
}

func TestFilter(t *testing.T) {
	p := mustNew(t, nil)
	for in, want := range map[string]string{
		`user.name:alice`: `user.name:"` + p.Value("alice") + `"`,
		`not user.name:alice and event.action:login`: `(not user.name:"` + p.Value("alice") + `") and event.action:login`,
		`source.ip:"::1" or client.ip:10.0.0.1`:      `source.ip:"` + p.Value("::1") + `" or client.ip:"` + p.Value("10.0.0.1") + `"`,
		`user.name:*`:                                `user.name:*`,
		`user.full_name:alice`:                       `user.full_name:alice`,
		`user.name:"` + p.Value("alice") + `"`:       `user.name:"` + p.Value("alice") + `"`,
	} {
		got, err := p.FilterText(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		g, _ := filter.Parse(got)
		w, err := filter.Parse(want)
		if err != nil || g.String() != w.String() {
			t.Errorf("FilterText(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`event.action:x and user.name:ali*`: "filter: at 20: user.name is pseudonymised: a prefix or wildcard cannot match pseudonyms",
		`source.ip:10.0.0.0/8`:              "filter: at 1: source.ip is pseudonymised: a CIDR block cannot match pseudonyms",
	} {
		var fe *filter.Error
		if _, err := p.ParseFilter(in); !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// A pseudonymised filter matches a pseudonymised event exactly when the
// filter matches the event in the clear.
func TestFilterMatchesAsInTheClear(t *testing.T) {
	p := mustNew(t, nil)
	names := []string{"alice", "bob", "Alice", "a b"}
	ips := []string{"10.0.0.1", "::1", "0:0:0:0:0:0:0:1", "::ffff:10.0.0.1"}
	rapid.Check(t, func(t *rapid.T) {
		var conds []string
		for i := range rapid.IntRange(1, 4).Draw(t, "conditions") {
			field := rapid.SampledFrom([]string{"user.name", "user.email", "source.ip", "client.ip", "event.action"}).Draw(t, "field")
			vals := names
			if strings.HasSuffix(field, ".ip") {
				vals = ips
			}
			c := field + `:"` + rapid.SampledFrom(vals).Draw(t, "value") + `"`
			if rapid.Bool().Draw(t, "not") {
				c = "not " + c
			}
			if i > 0 {
				c = rapid.SampledFrom([]string{" and ", " or "}).Draw(t, "op") + c
			}
			conds = append(conds, c)
		}
		text := strings.Join(conds, "")
		clear, err := filter.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		pseu, err := p.ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			ev := &event.Event{}
			ev.User.Name = rapid.SampledFrom(append([]string{""}, names...)).Draw(t, "user.name")
			ev.User.Email = rapid.SampledFrom(append([]string{""}, names...)).Draw(t, "user.email")
			ev.Event.Action = rapid.SampledFrom(append([]string{""}, names...)).Draw(t, "event.action")
			ev.Source.IP = rapid.SampledFrom(append([]string{""}, ips...)).Draw(t, "source.ip")
			ev.Client.IP = rapid.SampledFrom(append([]string{""}, ips...)).Draw(t, "client.ip")
			if got, want := pseu.Match(p.Event(ev)), clear.Match(ev); got != want {
				t.Fatalf("%s on %+v: pseudonymised %v, in the clear %v", text, ev, got, want)
			}
		}
	})
}
