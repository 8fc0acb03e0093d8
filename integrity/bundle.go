package integrity

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// An evidence bundle is a tar file a reader checks offline, with no
// server and no data directory: README.txt (what it holds and how to
// check it), pubkey.pem (the signing key's public half), head.json (the
// signed tree head) and proofs.ndjson (one ProofDoc per line: an event,
// its leaf position and salt, and its inclusion proof in the head's tree).
const (
	bundleReadme = "README.txt"
	bundlePubKey = "pubkey.pem"
	bundleHead   = "head.json"
	bundleProofs = "proofs.ndjson"
	// maxBundleMember bounds what one member of a bundle may hold when
	// read, so a hostile bundle cannot exhaust memory.
	maxBundleMember = 1 << 30
)

const readmeText = `Evidence bundle of eventlog (https://github.com/eventlogdb/eventlog)

head.json      a signed tree head: the size and root hash of the Merkle tree
               (RFC 6962, SHA-256) over the store's durable events, and when;
               signed with Ed25519 over "eventlog tree head v1\n" || size
               (8 bytes big-endian) || timestamp (Unix ns, 8 bytes BE) || root.
pubkey.pem     the public key that signed it (compare it with a copy you
               trust: eventlog integrity pubkey, published elsewhere).
proofs.ndjson  one event per line, with its leaf index, salt and inclusion
               proof. Leaf hash = SHA-256(0x00 || seq (8 bytes BE) || salt ||
               SHA-256(the event's binary form)).

Check it with: eventlog verify-bundle FILE.tar [--pubkey KEY.pem]
It proves each event is, unchanged, at its position in the log the head
signs. It does not prove that the bundle holds every event of interest.
`

// BundleWriter writes an evidence bundle: Begin, then Add for each event,
// then Close.
type BundleWriter struct {
	tw     *tar.Writer
	proofs bytes.Buffer
	head   SignedHead
	n      int
	now    time.Time
}

// NewBundleWriter starts a bundle proven against head, signed by pub.
func NewBundleWriter(w io.Writer, pub ed25519.PublicKey, head SignedHead, now time.Time) (*BundleWriter, error) {
	b := &BundleWriter{tw: tar.NewWriter(w), head: head, now: now}
	pemKey, err := MarshalPublicKey(pub)
	if err != nil {
		return nil, err
	}
	hj, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return nil, err
	}
	for _, m := range []struct {
		name string
		data []byte
	}{{bundleReadme, []byte(readmeText)}, {bundlePubKey, pemKey}, {bundleHead, append(hj, '\n')}} {
		if err := b.member(m.name, m.data); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *BundleWriter) member(name string, data []byte) error {
	if err := b.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: b.now, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	if _, err := b.tw.Write(data); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	return nil
}

// Add adds an event's proof, which must be against the bundle's head.
func (b *BundleWriter) Add(d ProofDoc) error {
	if d.TreeSize != b.head.Size {
		return fmt.Errorf("bundle: event %s: proof for tree size %d, the head's is %d", d.ID, d.TreeSize, b.head.Size)
	}
	d.Head = nil // the bundle's head.json
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	b.proofs.Write(line)
	b.proofs.WriteByte('\n')
	b.n++
	return nil
}

// Close writes the proofs and ends the tar file.
func (b *BundleWriter) Close() error {
	if err := b.member(bundleProofs, b.proofs.Bytes()); err != nil {
		return err
	}
	return b.tw.Close()
}

// BundleReport is what VerifyBundle checked.
type BundleReport struct {
	Head SignedHead
	// KeyFingerprint is the hex SHA-256 of the public key's PKIX form.
	KeyFingerprint string
	Events         int
	// Problems name each proof that failed, by line and event id.
	Problems []string
}

// VerifyBundle checks a bundle: the head's signature (with trusted, or
// the bundle's own key if nil, which only proves the bundle is
// self-consistent) and every event's inclusion proof against it.
func VerifyBundle(r io.Reader, trusted ed25519.PublicKey) (BundleReport, error) {
	members, err := readBundle(r)
	if err != nil {
		return BundleReport{}, err
	}
	var rep BundleReport
	pub, err := ParsePublicKey(members[bundlePubKey])
	if err != nil {
		return rep, fmt.Errorf("bundle: %s: %w", bundlePubKey, err)
	}
	if trusted != nil && !pub.Equal(trusted) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s is not the trusted key", bundlePubKey))
		pub = trusted
	}
	sum := sha256.Sum256(members[bundlePubKey])
	rep.KeyFingerprint = hex.EncodeToString(sum[:])
	if err := json.Unmarshal(members[bundleHead], &rep.Head); err != nil {
		return rep, fmt.Errorf("bundle: %s: %w", bundleHead, err)
	}
	if err := rep.Head.Verify(pub); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", bundleHead, err))
	}
	sc := bufio.NewScanner(bytes.NewReader(members[bundleProofs]))
	sc.Buffer(nil, maxBundleMember)
	for line := 1; sc.Scan(); line++ {
		rep.Events++
		var d ProofDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s line %d: %v", bundleProofs, line, err))
			continue
		}
		if err := d.Verify(rep.Head.Head); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s line %d: %v", bundleProofs, line, err))
		}
	}
	return rep, sc.Err()
}

// readBundle reads the members of a bundle, checking each is there once.
func readBundle(r io.Reader) (map[string][]byte, error) {
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		if _, dup := out[h.Name]; dup {
			return nil, fmt.Errorf("bundle: %s appears twice", h.Name)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxBundleMember+1))
		if err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", h.Name, err)
		}
		if len(b) > maxBundleMember {
			return nil, fmt.Errorf("bundle: %s is over %d bytes", h.Name, maxBundleMember)
		}
		out[h.Name] = b
	}
	for _, name := range []string{bundlePubKey, bundleHead, bundleProofs} {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("bundle: %s is missing", name)
		}
	}
	return out, nil
}
