// Package sealed encrypts the small secrets the store must keep to do its
// work — a destination's signing secret and the values of its extra
// headers (bearer tokens) — so that no file of the data directory, and no
// backup of it, holds them in the clear.
//
// A Box is AES-256-GCM under a key derived (HKDF-SHA-256) from key
// material kept outside the data directory. A sealed value is text:
//
//	sealed:v1:<base64url, unpadded: 12-byte nonce || ciphertext || 16-byte tag>
//
// Each value is sealed for a context (for example "destination/NAME/secret")
// that is authenticated but not stored, so a sealed value copied to another
// destination or field does not open there.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "sealed:v1:"

// MinKeyBytes is the least key material New accepts: 256 bits.
const MinKeyBytes = 32

// ErrOpen says a sealed value did not open: it was altered, sealed for
// another context, or sealed under another key.
var ErrOpen = errors.New("sealed value does not open with this key (altered, moved, or sealed under another key)")

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// New returns the Box of key material, which must hold at least
// MinKeyBytes bytes (e.g. `openssl rand -base64 32`). The material never
// appears in an error.
func New(material []byte) (*Box, error) {
	if len(material) < MinKeyBytes {
		return nil, fmt.Errorf("sealed: secrets key of %d bytes is too short: want at least %d (e.g. openssl rand -base64 32)", len(material), MinKeyBytes)
	}
	key, err := hkdf.Key(sha256.New, material, nil, "eventlog secrets v1", 32)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return &Box{aead}, nil
}

// IsSealed reports whether s is a sealed value (by its prefix).
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Seal encrypts plain for context with a fresh random nonce.
func (b *Box) Seal(plain, context string) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails: since Go 1.24 it crashes the program instead of returning an error
	return Prefix + base64.RawURLEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), []byte(context)))
}

// Open decrypts a value Seal made for the same context. A value that is
// not sealed, is malformed or does not authenticate is an error (ErrOpen
// for the last) that never holds the value.
func (b *Box) Open(text, context string) (string, error) {
	rest, ok := strings.CutPrefix(text, Prefix)
	if !ok {
		return "", fmt.Errorf("sealed: %s: not a sealed value (want the prefix %q)", context, Prefix)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(rest) // strict: an altered last character must not decode to the same bytes
	if err != nil {
		return "", fmt.Errorf("sealed: %s: not base64url: %w", context, err)
	}
	if len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", fmt.Errorf("sealed: %s: %d bytes is shorter than a nonce and a tag", context, len(raw))
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", fmt.Errorf("sealed: %s: %w", context, ErrOpen)
	}
	return string(plain), nil
}
