package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unsafe"
)

// Errors of Parse. Each says what is wrong with the header, never what it
// holds: a header may carry a secret.
var (
	// ErrNoCredentials: the request has no Authorization header.
	ErrNoCredentials = errors.New("no credentials: send the header Authorization: ApiKey KEY, KEY as eventlog keys create prints it")
	// ErrMalformed marks a header that is not one of the accepted forms.
	ErrMalformed = errors.New("malformed Authorization header")
)

var (
	errScheme  = wrapMalformed("want the scheme ApiKey, Bearer or Basic")
	errBase64  = wrapMalformed("the credentials are not base64")
	errNoColon = wrapMalformed(`the decoded credentials are not "id:secret"`)
	errTooLong = wrapMalformed("the credentials are too long")
	errEmpty   = wrapMalformed("the key id or the secret is empty")
)

func wrapMalformed(why string) error { return &malformedError{why} }

type malformedError struct{ why string }

func (e *malformedError) Error() string { return ErrMalformed.Error() + ": " + e.why }
func (e *malformedError) Unwrap() error { return ErrMalformed }

// maxCredentials bounds the decoded "id:secret": our keys take 60 bytes,
// Elasticsearch's 43.
const maxCredentials = 128

// Credentials are a key id and a secret taken from an Authorization
// header. They live in a fixed array, so that parsing allocates nothing.
type Credentials struct {
	buf   [maxCredentials]byte
	idLen uint8
	n     uint8
}

// ID is the key id. The bytes belong to c.
func (c *Credentials) ID() []byte { return c.buf[:c.idLen] }

// Secret is the secret. The bytes belong to c.
func (c *Credentials) Secret() []byte { return c.buf[c.idLen+1 : c.n] }

// Parse reads an Authorization header into c: "ApiKey X", "Bearer X" or
// "Basic X" (the scheme in any case), X being base64("id:secret"), padded
// or not. An empty header is ErrNoCredentials; anything else that is not
// one of the forms wraps ErrMalformed and says why.
func Parse(header string, c *Credentials) error {
	if header == "" {
		return ErrNoCredentials
	}
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !(strings.EqualFold(scheme, "ApiKey") || strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
		return errScheme
	}
	rest = strings.TrimSpace(rest)
	enc := base64.StdEncoding
	if len(rest)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	if enc.DecodedLen(len(rest)) > maxCredentials {
		return errTooLong
	}
	// Decode reads src only: viewing the string's bytes saves a copy,
	// which would be an allocation per request.
	src := unsafe.Slice(unsafe.StringData(rest), len(rest))
	n, err := enc.Decode(c.buf[:], src)
	if err != nil {
		return errBase64
	}
	i := strings.IndexByte(unsafe.String(&c.buf[0], n), ':')
	switch {
	case n == 0 || i < 0:
		return errNoColon
	case i == 0 || i == n-1:
		return errEmpty
	}
	c.idLen, c.n = uint8(i), uint8(n)
	return nil
}
