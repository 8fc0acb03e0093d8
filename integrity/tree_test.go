package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"pgregory.net/rapid"
)

// The test vectors of RFC 6962's reference implementation (Certificate
// Transparency's merkle_tree_test), the leaf inputs and tree roots.
var (
	rfcLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	rfcRoots  = []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRFC6962Vectors(t *testing.T) {
	var tr tree
	noRead := func(from, to uint64) ([]Hash, error) {
		t.Fatalf("read %d..%d: all leaves are in memory", from, to)
		return nil, nil
	}
	for n := 0; n <= len(rfcLeaves); n++ {
		root, err := tr.root(uint64(n), noRead)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(root[:]); got != rfcRoots[n] {
			t.Errorf("root of %d leaves = %s, want %s", n, got, rfcRoots[n])
		}
		if n < len(rfcLeaves) {
			tr.add(Hash(hasher.HashLeaf(unhex(t, rfcLeaves[n]))))
		}
	}
	// Proofs from the same vectors: inclusion of leaf 0 in 8, consistency
	// 1→8, 6→8 and 2→5.
	cases := []struct {
		name string
		got  func() ([]Hash, error)
		want []string
	}{
		{"inclusion 0 in 8", func() ([]Hash, error) { return tr.inclusion(0, 8, noRead) }, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{"inclusion 5 in 8", func() ([]Hash, error) { return tr.inclusion(5, 8, noRead) }, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{"consistency 1→8", func() ([]Hash, error) { return tr.consistency(1, 8, noRead) }, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{"consistency 6→8", func() ([]Hash, error) { return tr.consistency(6, 8, noRead) }, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{"consistency 2→5", func() ([]Hash, error) { return tr.consistency(2, 5, noRead) }, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	for _, c := range cases {
		hs, err := c.got()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(hs) != len(c.want) {
			t.Fatalf("%s: %d hashes, want %d", c.name, len(hs), len(c.want))
		}
		for i := range hs {
			if got := hex.EncodeToString(hs[i][:]); got != c.want[i] {
				t.Errorf("%s: hash %d = %s, want %s", c.name, i, got, c.want[i])
			}
		}
	}
}

// mth is RFC 6962's Merkle Tree Hash written out from section 2.1 with
// crypto/sha256 alone: the independent expectation of the tree's roots.
func mth(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := mth(leaves[:k]), mth(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// refLeaf is a leaf hash computed from section 2.1 too.
func refLeaf(data []byte) Hash { return sha256.Sum256(append([]byte{0}, data...)) }

// TestTreeProperties checks, on trees past several in-memory levels, that
// every root matches the reference, every inclusion and consistency proof
// verifies, and a flipped bit in a proof fails it.
func TestTreeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 3000).Draw(t, "leaves")
		leaves := make([]Hash, n)
		var tr tree
		for i := range leaves {
			leaves[i] = refLeaf([]byte{byte(i), byte(i >> 8), 7})
			tr.add(leaves[i])
		}
		read := func(from, to uint64) ([]Hash, error) { return leaves[from:to], nil }
		size := rapid.Uint64Range(1, uint64(n)).Draw(t, "size")
		root, err := tr.root(size, read)
		if err != nil {
			t.Fatal(err)
		}
		if want := mth(leaves[:size]); root != want {
			t.Fatalf("root of %d = %x, want %x", size, root, want)
		}
		idx := rapid.Uint64Range(0, size-1).Draw(t, "index")
		p, err := tr.inclusion(idx, size, read)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(hasher, idx, size, leaves[idx][:], hashBytes(p), root[:]); err != nil {
			t.Fatalf("inclusion of %d in %d: %v", idx, size, err)
		}
		size1 := rapid.Uint64Range(1, size).Draw(t, "size1")
		c, err := tr.consistency(size1, size, read)
		if err != nil {
			t.Fatal(err)
		}
		root1 := mth(leaves[:size1])
		if err := proof.VerifyConsistency(hasher, size1, size, hashBytes(c), root1[:], root[:]); err != nil {
			t.Fatalf("consistency %d→%d: %v", size1, size, err)
		}
		if len(p) > 0 {
			bit := rapid.IntRange(0, len(p)*HashSize*8-1).Draw(t, "bit")
			p[bit/(HashSize*8)][bit/8%HashSize] ^= 1 << (bit % 8)
			if proof.VerifyInclusion(hasher, idx, size, leaves[idx][:], hashBytes(p), root[:]) == nil {
				t.Fatalf("inclusion proof with bit %d flipped verified", bit)
			}
		}
		if len(c) > 0 {
			bit := rapid.IntRange(0, len(c)*HashSize*8-1).Draw(t, "cbit")
			c[bit/(HashSize*8)][bit/8%HashSize] ^= 1 << (bit % 8)
			if proof.VerifyConsistency(hasher, size1, size, hashBytes(c), root1[:], root[:]) == nil {
				t.Fatalf("consistency proof with bit %d flipped verified", bit)
			}
		}
	})
}

// TestHashesMatchLibrary: the allocation-free leaf and node hashes and
// salts are the library's RFC 6962 hasher's and crypto/hmac's.
func TestHashesMatchLibrary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l, r Hash
		copy(l[:], rapid.SliceOfN(rapid.Byte(), HashSize, HashSize).Draw(t, "l"))
		copy(r[:], rapid.SliceOfN(rapid.Byte(), HashSize, HashSize).Draw(t, "r"))
		if got, want := nodeHash(l, r), Hash(hasher.HashChildren(l[:], r[:])); got != want {
			t.Fatalf("node hash %x, library %x", got, want)
		}
		seq := rapid.Uint64().Draw(t, "seq")
		key := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "key")
		salt := NewSalter(key).Salt(seq)
		if want := refSalt(key, seq); salt != want {
			t.Fatalf("salt %x, crypto/hmac %x", salt, want)
		}
		d := LeafData(seq, salt, l)
		if got, want := LeafHash(seq, salt, l), Hash(hasher.HashLeaf(d[:])); got != want {
			t.Fatalf("leaf hash %x, library %x", got, want)
		}
	})
}
