package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Sizes of what Create makes: an id of 12 random bytes (20 characters of
// lower-case base32; unique, not secret) and a secret of 32 (256 bits; 43
// characters of base64url).
const (
	idBytes     = 12
	secretBytes = 32
)

// idEncoding writes ids: lower-case base32, so that an id never starts
// with "-" (a command line would take it for a flag) and reads aloud.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a fresh key id.
func newID() string { return idEncoding.EncodeToString(randomBytes(idBytes)) }

// newSecret returns a fresh secret.
func newSecret() string { return base64.RawURLEncoding.EncodeToString(randomBytes(secretBytes)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// Encoded is the value a client sends after "ApiKey " (or "Bearer "):
// base64(id ":" secret), as in Elasticsearch's create-API-key answer.
func Encoded(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
}

// digest is the SHA-256 of a secret: what the store keeps.
type digest [sha256.Size]byte

func hashSecret(secret []byte) digest { return sha256.Sum256(secret) }

// matches compares, in constant time, secret's hash with d.
func (d *digest) matches(secret []byte) bool {
	h := hashSecret(secret)
	return subtle.ConstantTimeCompare(h[:], d[:]) == 1
}

// MarshalText writes the hash as "sha256:" and 64 hex digits.
func (d digest) MarshalText() ([]byte, error) {
	return []byte("sha256:" + hex.EncodeToString(d[:])), nil
}

// UnmarshalText reads MarshalText's form.
func (d *digest) UnmarshalText(b []byte) error {
	s, ok := strings.CutPrefix(string(b), "sha256:")
	if !ok || hex.DecodedLen(len(s)) != len(d) {
		return fmt.Errorf("hash %q: want sha256: and 64 hex digits", truncate(string(b), 80))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return fmt.Errorf("hash: want sha256: and 64 hex digits: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
