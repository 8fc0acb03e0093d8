package integrity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Key files in the integrity directory. The private key and the salt key
// are secrets (mode 0600); the public key is written beside them for
// convenience, but verifiers should take it from a copy kept elsewhere.
const (
	SigningKeyFile = "signing.key"
	PublicKeyFile  = "signing.pub"
	SaltKeyFile    = "salt.key"
	saltKeySize    = 32
	saltPEMType    = "EVENTLOG SALT KEY"
)

// keys are the signing key and the salt key.
type keys struct {
	signer ed25519.PrivateKey
	salt   []byte
}

// loadKeys reads the keys in dir. Without a signing key (written last) in
// a fresh directory (no leaf and no head yet, so nothing depends on the
// keys: a first start interrupted), it generates both, unless readOnly.
// Otherwise a missing key is an error: a lost key cannot be replaced
// without breaking every leaf or head made with it.
func loadKeys(fsys vfs.FS, dir string, readOnly, fresh bool) (keys, error) {
	sk, errS := vfs.ReadFile(fsys, filepath.Join(dir, SigningKeyFile))
	if errors.Is(errS, fs.ErrNotExist) && fresh && !readOnly {
		return generateKeys(fsys, dir)
	}
	salt, errT := vfs.ReadFile(fsys, filepath.Join(dir, SaltKeyFile))
	if errS != nil {
		return keys{}, fmt.Errorf("read signing key: %w", errS)
	}
	if errT != nil {
		return keys{}, fmt.Errorf("read salt key: %w", errT)
	}
	var k keys
	var err error
	if k.signer, err = ParsePrivateKey(sk); err != nil {
		return keys{}, fmt.Errorf("%s: %w", filepath.Join(dir, SigningKeyFile), err)
	}
	if k.salt, err = parseSaltKey(salt); err != nil {
		return keys{}, fmt.Errorf("%s: %w", filepath.Join(dir, SaltKeyFile), err)
	}
	return k, nil
}

// generateKeys makes and stores new keys: salt key, public key, then the
// signing key, each written atomically; a crash before the last leaves no
// signing key, and the next start makes new ones.
func generateKeys(fsys vfs.FS, dir string) (keys, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return keys{}, err
	}
	salt := make([]byte, saltKeySize)
	if _, err := rand.Read(salt); err != nil {
		return keys{}, err
	}
	if err := vfs.MkdirAllDurable(fsys, dir, 0o700); err != nil {
		return keys{}, fmt.Errorf("create %s: %w", dir, err)
	}
	skPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		return keys{}, err
	}
	pubPEM, err := MarshalPublicKey(pub)
	if err != nil {
		return keys{}, err
	}
	saltPEM := pem.EncodeToMemory(&pem.Block{Type: saltPEMType, Bytes: salt})
	for _, f := range []struct {
		name string
		data []byte
		perm fs.FileMode
	}{{SaltKeyFile, saltPEM, 0o600}, {PublicKeyFile, pubPEM, 0o644}, {SigningKeyFile, skPEM, 0o600}} {
		if err := vfs.WriteFileAtomicMode(fsys, filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return keys{}, fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return keys{signer: priv, salt: salt}, nil
}

// MarshalPrivateKey encodes an Ed25519 private key as PEM (PKCS #8).
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes an Ed25519 public key as PEM (PKIX), the form
// `eventlog integrity pubkey` prints and `openssl pkey -pubin` reads.
func MarshalPublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes MarshalPrivateKey's form.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return ek, nil
}

// ParsePublicKey decodes MarshalPublicKey's form.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return ek, nil
}

func parseSaltKey(b []byte) ([]byte, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != saltPEMType || len(blk.Bytes) != saltKeySize {
		return nil, fmt.Errorf("not a PEM %s of %d bytes", saltPEMType, saltKeySize)
	}
	return blk.Bytes, nil
}
