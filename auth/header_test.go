package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	raw := base64.RawStdEncoding.EncodeToString
	cases := map[string]struct {
		header, id, secret string
		err                error
	}{
		"apikey":        {header: "ApiKey " + enc([]byte("abc:s3cret")), id: "abc", secret: "s3cret"},
		"bearer":        {header: "Bearer " + enc([]byte("abc:s3cret")), id: "abc", secret: "s3cret"},
		"basic":         {header: "Basic " + enc([]byte("abc:s3cret")), id: "abc", secret: "s3cret"},
		"scheme case":   {header: "apikey " + enc([]byte("abc:x")), id: "abc", secret: "x"},
		"unpadded":      {header: "ApiKey " + raw([]byte("abc:s3cre")), id: "abc", secret: "s3cre"},
		"colon in pw":   {header: "Basic " + enc([]byte("abc:a:b")), id: "abc", secret: "a:b"},
		"empty":         {header: "", err: ErrNoCredentials},
		"no scheme":     {header: enc([]byte("abc:x")), err: ErrMalformed},
		"other scheme":  {header: "Digest " + enc([]byte("abc:x")), err: ErrMalformed},
		"not base64":    {header: "ApiKey !!!!", err: ErrMalformed},
		"no colon":      {header: "ApiKey " + enc([]byte("abcdef")), err: ErrMalformed},
		"empty id":      {header: "ApiKey " + enc([]byte(":secret")), err: ErrMalformed},
		"empty secret":  {header: "ApiKey " + enc([]byte("id:")), err: ErrMalformed},
		"too long":      {header: "ApiKey " + enc([]byte("id:"+strings.Repeat("x", 200))), err: ErrMalformed},
		"scheme only":   {header: "ApiKey", err: ErrMalformed},
		"empty payload": {header: "ApiKey ", err: ErrMalformed},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var cr Credentials
			err := Parse(c.header, &cr)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Parse(%q) = %v, want %v", c.header, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(cr.ID()) != c.id || string(cr.Secret()) != c.secret {
				t.Fatalf("Parse(%q) = %q, %q; want %q, %q", c.header, cr.ID(), cr.Secret(), c.id, c.secret)
			}
		})
	}
}

// FuzzParse checks that no header makes Parse panic, that what it accepts
// decodes to "id:secret" with both non-empty, and that its errors never
// repeat the header (which may hold a secret).
func FuzzParse(f *testing.F) {
	f.Add("ApiKey " + Encoded("id", "secret"))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a:b:c")))
	f.Add("Bearer ====")
	f.Add("apikey Zm9vOmJhcg")
	f.Fuzz(func(t *testing.T, header string) {
		var c Credentials
		err := Parse(header, &c)
		if err != nil {
			if len(header) > 8 && strings.Contains(err.Error(), header) {
				t.Fatalf("error %q repeats the header", err)
			}
			return
		}
		if len(c.ID()) == 0 || len(c.Secret()) == 0 {
			t.Fatalf("Parse(%q) accepted an empty id or secret", header)
		}
		_, payload, _ := strings.Cut(header, " ")
		payload = strings.TrimSpace(payload)
		dec, derr := base64.StdEncoding.DecodeString(payload)
		if derr != nil {
			dec, derr = base64.RawStdEncoding.DecodeString(payload)
		}
		if derr != nil || string(dec) != string(c.ID())+":"+string(c.Secret()) {
			t.Fatalf("Parse(%q) = %q:%q, base64 gives %q (%v)", header, c.ID(), c.Secret(), dec, derr)
		}
	})
}
