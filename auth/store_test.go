package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func mustOpen(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func creds(t testing.TB, id, secret string) *Credentials {
	t.Helper()
	var c Credentials
	if err := Parse("ApiKey "+Encoded(id, secret), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestStoreLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if s.HasKeys() {
		t.Fatal("a new directory has keys")
	}
	k, secret, err := s.Create(Spec{Name: "ops", Role: Admin, TTL: 90 * 24 * time.Hour}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 || len(k.ID) != 20 || strings.Trim(k.ID, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("id %q secret of %d characters; want 20 of base32 and 43 (256 bits)", k.ID, len(secret))
	}
	if got := k.Expires.Sub(k.Created); got != 90*24*time.Hour {
		t.Fatalf("expires %v after creation", got)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	got, err := s.Authenticate(creds(t, k.ID, secret), t0.Add(time.Minute))
	if err != nil || got.ID != k.ID || got.Role != Admin {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for name, c := range map[string]struct {
		cr   *Credentials
		at   time.Time
		want error
	}{
		"wrong secret": {creds(t, k.ID, secret[:42]+"x"), t0, ErrWrongSecret},
		"unknown id":   {creds(t, "nope", secret), t0, ErrUnknownKey},
		"expired":      {creds(t, k.ID, secret), k.Expires, ErrExpired},
	} {
		if _, err := s.Authenticate(c.cr, c.at); err != c.want || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Authenticate = %v, want %v", name, err, c.want)
		}
	}
	// Reopen: the key, its last use, then revoke and reopen again.
	if err := s.FlushLastUsed(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, dir)
	if l := s2.List(); len(l) != 1 || !l[0].LastUsed.Equal(t0.Add(time.Minute)) {
		t.Fatalf("reopened list = %+v, want last used %v", l, t0.Add(time.Minute))
	}
	if _, err := s2.Revoke(k.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Authenticate(creds(t, k.ID, secret), t0.Add(2*time.Hour)); err != ErrRevoked {
		t.Fatalf("after revoke: %v", err)
	}
	if !mustOpen(t, dir).HasKeys() {
		t.Fatal("a directory holding only a revoked key must still require keys")
	}
	if _, err := s2.Revoke("nope", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.Contains(string(data), secret) {
		t.Fatal("the key file holds the secret")
	}
}

func TestCreateRefusesBadSpecs(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	for name, spec := range map[string]Spec{
		"no name":     {Role: Reader},
		"no role":     {Name: "x"},
		"bad space":   {Name: "x", Role: Reader, Spaces: []string{"Team A"}},
		"empty space": {Name: "x", Role: Reader, Spaces: []string{""}},
		"control":     {Name: "a\nb", Role: Reader},
		"negative":    {Name: "x", Role: Reader, TTL: -time.Hour},
	} {
		if _, _, err := s.Create(spec, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if s.HasKeys() {
		t.Fatal("a refused spec stored a key")
	}
}

func TestOpenRefusesDamagedFile(t *testing.T) {
	rec := `{"id":"a","name":"n","role":"admin","created":"2026-01-01T00:00:00Z","hash":"sha256:` + strings.Repeat("0", 64) + `"}`
	for name, body := range map[string]string{
		"not json":    "{",
		"newer":       `{"version":2,"keys":[]}`,
		"bad hash":    `{"version":1,"keys":[{"id":"a","name":"n","role":"admin","created":"2026-01-01T00:00:00Z","hash":"md5:00"}]}`,
		"bad role":    `{"version":1,"keys":[{"id":"a","name":"n","role":"root","created":"2026-01-01T00:00:00Z","hash":"sha256:` + strings.Repeat("0", 64) + `"}]}`,
		"repeated id": `{"version":1,"keys":[` + rec + `,` + rec + `]}`,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(nil, dir); err == nil || !strings.Contains(err.Error(), FileName) {
			t.Errorf("%s: Open = %v, want an error naming the file", name, err)
		}
	}
}

// TestStoreModel runs random creates, revokes, reopenings and
// authentications against a map of id → (secret, revoked, expires).
func TestStoreModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir)
		type modelKey struct {
			secret  string
			revoked bool
			expires time.Time
		}
		model := map[string]*modelKey{}
		var ids []string
		now := t0
		rt.Repeat(map[string]func(*rapid.T){
			"create": func(rt *rapid.T) {
				ttl := time.Duration(rapid.IntRange(0, 3).Draw(rt, "ttl hours")) * time.Hour
				k, secret, err := s.Create(Spec{Name: "k", Role: rapid.SampledFrom(Roles()).Draw(rt, "role"), TTL: ttl}, now)
				if err != nil {
					rt.Fatal(err)
				}
				m := &modelKey{secret: secret}
				if ttl > 0 {
					m.expires = now.Truncate(time.Second).Add(ttl)
				}
				model[k.ID] = m
				ids = append(ids, k.ID)
			},
			"revoke": func(rt *rapid.T) {
				if len(ids) == 0 {
					return // nothing to revoke yet
				}
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				if _, err := s.Revoke(id, now); err != nil {
					rt.Fatal(err)
				}
				model[id].revoked = true
			},
			"wait": func(rt *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(1, 90).Draw(rt, "minutes")) * time.Minute)
			},
			"reopen": func(rt *rapid.T) {
				if err := s.FlushLastUsed(); err != nil {
					rt.Fatal(err)
				}
				s = mustOpen(t, dir)
			},
			"": func(rt *rapid.T) {
				for id, m := range model {
					want := error(nil)
					switch {
					case m.revoked:
						want = ErrRevoked
					case !m.expires.IsZero() && !now.Before(m.expires):
						want = ErrExpired
					}
					if _, err := s.Authenticate(creds(t, id, m.secret), now); err != want {
						rt.Fatalf("key %s: %v, want %v", id, err, want)
					}
					if _, err := s.Authenticate(creds(t, id, m.secret+"x"), now); err != ErrWrongSecret {
						rt.Fatalf("key %s with a wrong secret: %v", id, err)
					}
				}
				if len(s.List()) != len(model) {
					rt.Fatalf("%d keys listed, model has %d", len(s.List()), len(model))
				}
			},
		})
	})
}

func TestScope(t *testing.T) {
	ref := func(space string) event.SavedObject {
		return event.SavedObject{Type: "alert", ID: "1", Rel: event.RelPrimary, Namespace: space}
	}
	ev := func(refs []event.SavedObject, ids ...string) *event.Event {
		var e event.Event
		e.Kibana.SavedObjects = refs
		e.Kibana.SpaceIDs.Values = ids
		return &e
	}
	k := &Key{Spaces: []string{"team-a", "default"}}
	cases := []struct {
		name       string
		ev         *event.Event
		write, see bool
		shownRefs  int
		shownIDs   int
	}{
		{"no space is default", ev(nil), true, true, 0, 0},
		{"ref without namespace is default", ev([]event.SavedObject{ref("")}), true, true, 1, 0},
		{"in scope", ev([]event.SavedObject{ref("team-a")}), true, true, 1, 0},
		{"out of scope", ev([]event.SavedObject{ref("team-b")}), false, false, 0, 0},
		{"mixed refs", ev([]event.SavedObject{ref("team-a"), ref("team-b")}), false, true, 1, 0},
		{"space ids out", ev(nil, "team-b"), false, false, 0, 0},
		{"space ids mixed", ev(nil, "team-b", "team-a"), false, true, 0, 1},
	}
	for _, c := range cases {
		if got := k.MayWrite(c.ev); got != c.write {
			t.Errorf("%s: MayWrite = %v", c.name, got)
		}
		if got := k.MaySee(c.ev); got != c.see {
			t.Errorf("%s: MaySee = %v", c.name, got)
		}
		if c.see {
			shown := k.Shown(c.ev)
			if got := len(shown.Kibana.SavedObjects); got != c.shownRefs {
				t.Errorf("%s: Shown keeps %d refs, want %d", c.name, got, c.shownRefs)
			}
			if got := len(shown.Kibana.SpaceIDs.Values); got != c.shownIDs {
				t.Errorf("%s: Shown keeps %d space ids, want %d", c.name, got, c.shownIDs)
			}
		}
	}
	if !(&Key{}).MayWrite(ev(nil, "anything")) {
		t.Error("an unscoped key may write anywhere")
	}
}

func TestRoles(t *testing.T) {
	// want[r][need]: the role table of the package doc.
	want := map[Role][]Role{
		Reader:  {Reader},
		Writer:  {Reader, Writer},
		Admin:   {Reader, Writer, Admin, Auditor},
		Auditor: {Reader, Auditor},
	}
	for _, r := range Roles() {
		for _, need := range Roles() {
			exp := false
			for _, w := range want[r] {
				exp = exp || w == need
			}
			if r.Allows(need) != exp {
				t.Errorf("%v.Allows(%v) = %v", r, need, !exp)
			}
		}
		if got, err := ParseRole(strings.ToUpper(r.String())); err != nil || got != r {
			t.Errorf("ParseRole(%v) = %v, %v", r, got, err)
		}
	}
	if Role(0).Allows(Reader) {
		t.Error("no role allows reading")
	}
}

func TestLimiter(t *testing.T) {
	var l Limits
	for _, rule := range []string{"reader=2/s", "writer=,100B/s"} {
		if err := l.ParseLimit(rule); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"reader", "=1", "reader=-1", "reader=x", "writer=,huge"} {
		if err := l.ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
	lim := NewLimiter(l, 50)
	reader, writer := &Key{ID: "r", Role: Reader}, &Key{ID: "w", Role: Writer}
	for i := range 2 {
		if ok, _ := lim.AllowRequest(reader, t0); !ok {
			t.Fatalf("request %d refused within the burst of 2", i)
		}
	}
	ok, wait := lim.AllowRequest(reader, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("third request at once: %v, retry after %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := lim.AllowRequest(reader, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("a token is back after 500ms")
	}
	if ok, _ := lim.AllowRequest(writer, t0); !ok {
		t.Fatal("writers have no request limit")
	}
	if ok, _ := lim.AllowBytes(writer, t0, 100); !ok {
		t.Fatal("a full bucket of 100 bytes refused 100")
	}
	if ok, wait := lim.AllowBytes(writer, t0, 50); ok || wait != 500*time.Millisecond {
		t.Fatalf("50 more bytes at once: %v, %v; want refused, 500ms", ok, wait)
	}
}

// BenchmarkAuthenticate measures what authentication costs a request:
// parsing the header and checking the key.
func BenchmarkAuthenticate(b *testing.B) {
	s := mustOpen(b, b.TempDir())
	k, secret, err := s.Create(Spec{Name: "shipper", Role: Writer}, t0)
	if err != nil {
		b.Fatal(err)
	}
	header := "ApiKey " + Encoded(k.ID, secret)
	now := t0.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		var c Credentials
		if err := Parse(header, &c); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Authenticate(&c, now); err != nil {
			b.Fatal(err)
		}
	}
}
