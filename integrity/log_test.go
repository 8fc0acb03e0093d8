package integrity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// refSalt is the salt from its definition, with crypto/hmac alone.
func refSalt(key []byte, seq uint64) (s [SaltSize]byte) {
	m := hmac.New(sha256.New, key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	m.Write(b[:])
	copy(s[:], m.Sum(nil))
	return s
}

// refLeafOf is an event's leaf hash from its definition.
func refLeafOf(key []byte, seq uint64, digest Hash) Hash {
	var data []byte
	data = binary.BigEndian.AppendUint64(data, seq)
	salt := refSalt(key, seq)
	data = append(append(data, salt[:]...), digest[:]...)
	return refLeaf(data)
}

func openLog(t *testing.T, dir string) *Log {
	t.Helper()
	l, err := Open(dir, Options{Now: func() time.Time { return time.Unix(1700000000, 5) }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLogCommitDurableSignReopen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	// Sequence numbers with gaps (skipped by failed writes): leaves count
	// the durable events, not the numbers.
	var seqs []uint64
	var digests []Hash
	seq := uint64(1)
	for b := 0; b < 40; b++ {
		n := 1 + b*7%50
		batch := make([]Hash, n)
		for i := range batch {
			batch[i] = Digest([]byte{byte(b), byte(i)})
			seqs = append(seqs, seq+uint64(i))
		}
		digests = append(digests, batch...)
		l.Commit(seq, batch)
		seq += uint64(n) + uint64(b%3) // a gap now and then
	}
	// Only what is durable gets leaves.
	half := seqs[len(seqs)/2]
	l.Durable(half)
	if err := l.CatchUp(); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Size(), uint64(len(seqs)/2+1); got != want {
		t.Fatalf("size after durable %d = %d, want %d", half, got, want)
	}
	l.Durable(seqs[len(seqs)-1])
	head, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	key := mustSaltKey(t, dir)
	leaves := make([]Hash, len(seqs))
	for i := range seqs {
		leaves[i] = refLeafOf(key, seqs[i], digests[i])
	}
	if head.Size != uint64(len(seqs)) || head.Root != mth(leaves) {
		t.Fatalf("head %d %x, want %d %x", head.Size, head.Root, len(seqs), mth(leaves))
	}
	if err := head.Verify(l.PublicKey()); err != nil {
		t.Fatal(err)
	}
	i := 1234 % len(seqs)
	p, err := l.Inclusion(seqs[i], 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.LeafIndex != uint64(i) {
		t.Fatalf("leaf index of seq %d = %d, want %d", seqs[i], p.LeafIndex, i)
	}
	if err := VerifyInclusion(p, digests[i], head.Head); err != nil {
		t.Fatal(err)
	}
	if err := VerifyInclusion(p, Digest([]byte("other")), head.Head); err == nil {
		t.Fatal("a proof verified for another event's digest")
	}
	if _, err := l.Inclusion(seqs[1]+1000000, 0); err != ErrNoLeaf {
		t.Fatalf("proof of an unknown seq: %v, want ErrNoLeaf", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, dir)
	defer l.Close()
	if root, err := l.Root(l.Size()); err != nil || root != head.Root {
		t.Fatalf("reopened root %x (%v), want %x", root, err, head.Root)
	}
	if got, ok := l.LatestHead(); !ok || got.Root != head.Root || got.Timestamp != head.Timestamp {
		t.Fatalf("reopened latest head %+v, want %+v", got, head)
	}
	pub, err := ParsePublicKey(mustRead(t, filepath.Join(dir, PublicKeyFile)))
	if err != nil || !pub.Equal(l.PublicKey()) {
		t.Fatalf("public key file: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, SigningKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode: %v %v", fi.Mode(), err)
	}
}

// TestLeafLogTornTail: a torn last entry is cut, and the events after the
// cut get the same leaves again when committed (as the WAL's replay does).
func TestLeafLogTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	ds := []Hash{Digest([]byte("a")), Digest([]byte("b")), Digest([]byte("c"))}
	l.Commit(10, ds)
	l.Durable(12)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := mth([]Hash{refLeafOf(mustSaltKey(t, dir), 10, ds[0]), refLeafOf(mustSaltKey(t, dir), 11, ds[1]), refLeafOf(mustSaltKey(t, dir), 12, ds[2])})
	path := filepath.Join(dir, "leaves", leafFileName(0))
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()-5); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir)
	defer l.Close()
	if l.Size() != 2 || l.LastSeq() != 11 {
		t.Fatalf("after a torn tail: size %d last seq %d, want 2 and 11", l.Size(), l.LastSeq())
	}
	l.Commit(12, ds[2:])
	l.Durable(12)
	if err := l.CatchUp(); err != nil {
		t.Fatal(err)
	}
	if root, _ := l.Root(3); root != want {
		t.Fatalf("rebuilt root %x, want %x", root, want)
	}
}

func TestHeadJSONRoundTrip(t *testing.T) {
	l := openLog(t, t.TempDir())
	defer l.Close()
	l.Commit(1, []Hash{Digest([]byte("x"))})
	l.Durable(1)
	h, err := l.Sign()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back SignedHead
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(l.PublicKey()); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	// Any single bit of the signed head changed fails the signature.
	msg := appendHeadRecord(nil, back)
	for bit := 0; bit < (headRecordSize-4)*8; bit++ {
		m := append([]byte(nil), msg...)
		m[bit/8] ^= 1 << (bit % 8)
		changed := SignedHead{}
		changed.Size = binary.LittleEndian.Uint64(m)
		changed.Timestamp = time.Unix(0, int64(binary.LittleEndian.Uint64(m[8:])))
		changed.Root = Hash(m[16:48])
		changed.Signature = m[48 : headRecordSize-4]
		if changed.Verify(l.PublicKey()) == nil {
			t.Fatalf("head with bit %d flipped verified", bit)
		}
	}
}

func mustSaltKey(t fataler, dir string) []byte {
	t.Helper()
	k, err := parseSaltKey(mustRead(t, filepath.Join(dir, SaltKeyFile)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustRead returns the file at path, failing t if it cannot be read.
func mustRead(t fataler, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
