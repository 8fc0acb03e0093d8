package event

import (
	"testing"

	"pgregory.net/rapid"
)

// eachObject calls fn with every object node of the schema.
func eachObject(n *node, fn func(*node)) {
	if n.children == nil {
		return
	}
	fn(n)
	for _, c := range n.children {
		eachObject(c, fn)
	}
}

// TestChildTables: every object of the schema has a table (no key hash
// collides), and child finds what the children map holds: each child by
// its key, and nothing for keys close to them (a byte changed, one cut or
// added) or drawn at random.
func TestChildTables(t *testing.T) {
	var objects []*node
	eachObject(tree.root, func(n *node) {
		if n.table == nil {
			t.Errorf("object %q has no child table", n.path)
		}
		objects = append(objects, n)
	})
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.SampledFrom(objects).Draw(t, "object")
		var keys []string
		for k := range n.children {
			keys = append(keys, k)
		}
		key := rapid.OneOf(
			rapid.SampledFrom(keys),
			rapid.Custom(func(t *rapid.T) string {
				k := []byte(rapid.SampledFrom(keys).Draw(t, "near"))
				switch rapid.IntRange(0, 2).Draw(t, "edit") {
				case 0:
					k[rapid.IntRange(0, len(k)-1).Draw(t, "at")] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
				case 1:
					k = k[:rapid.IntRange(0, len(k)-1).Draw(t, "cut")]
				default:
					k = append(k, rapid.Byte().Draw(t, "add"))
				}
				return string(k)
			}),
			rapid.String(),
		).Draw(t, "key")
		if got, want := n.child(key), n.children[key]; got != want {
			t.Fatalf("%q in %q: child gives %v, the map %v", key, n.path, got, want)
		}
	})
}

// BenchmarkChildLookup finds the key of every node of the schema in its
// parent, by child (the table) and through the map it replaced.
func BenchmarkChildLookup(b *testing.B) {
	type lookup struct {
		n   *node
		key string
	}
	var keys []lookup
	for _, n := range tree.leaf {
		for c := n; c.parent != nil; c = c.parent {
			keys = append(keys, lookup{c.parent, c.name})
		}
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			for _, l := range keys {
				if l.n.child(l.key) == nil {
					b.Fatal(l.key)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			for _, l := range keys {
				if l.n.children[l.key] == nil {
					b.Fatal(l.key)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
}
