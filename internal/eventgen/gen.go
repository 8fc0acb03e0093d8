package eventgen

import (
	"encoding/json"
	"strings"

	"github.com/eventlogdb/eventlog/event"
	"pgregory.net/rapid"
)

// Groups are the objects unknown keys are put in: the document itself and
// known objects of the schema at several depths.
var Groups = []string{"", "host", "event", "user", "kibana", "kibana.alert.rule", "http.request"}

// Kept is one unknown member: the object it belongs to (one of Groups),
// its key and its value.
type Kept struct {
	Group string
	Key   string
	Value *Node
}

// unknownKeys are keys outside the schema at every place in Groups.
var unknownKeys = []string{"x_process", "syslog", "agent", "architecture", "module_v", "é", "a\"b", "x<y", "roles_extra", "x_pid", ""}

// Unknown generates up to max unknown members with distinct keys per
// group; values are trees of every JSON type up to three levels deep.
func Unknown(max int) *rapid.Generator[[]Kept] {
	return rapid.Custom(func(t *rapid.T) []Kept {
		n := rapid.IntRange(0, max).Draw(t, "unknown")
		var out []Kept
		used := map[string]bool{}
		for range n {
			g := rapid.SampledFrom(Groups).Draw(t, "group")
			k := rapid.SampledFrom(unknownKeys).Draw(t, "key")
			if rapid.Bool().Draw(t, "suffix") {
				k += "_" + rapid.StringMatching(`[a-z0-9]{0,4}`).Draw(t, "suffix")
			}
			if used[g+"\x00"+k] {
				continue
			}
			used[g+"\x00"+k] = true
			out = append(out, Kept{Group: g, Key: k, Value: value(t, 0)})
		}
		return out
	})
}

// numbers are JSON number texts, kept as sent: canonical integers, -0,
// int64's bounds and past them, fractions with trailing zeros, exponents.
var numbers = []string{"0", "-0", "42", "-7", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "123456789012345678901234", "2.50", "0.1", "1e3", "-1.5E-7", "1E+2"}

func value(t *rapid.T, depth int) *Node {
	kind := rapid.IntRange(0, 6).Draw(t, "kind")
	if depth >= 3 && kind >= 5 {
		kind = 4
	}
	switch kind {
	case 0:
		return &Node{Raw: rapid.SampledFrom([]string{"null", "true", "false"}).Draw(t, "lit")}
	case 1, 2:
		return &Node{Raw: rapid.SampledFrom(numbers).Draw(t, "num")}
	case 3, 4:
		s, _ := json.Marshal(rapid.SampledFrom([]string{"", "local0", "vector-0.3", "a\u2028b", "<&>", "\x00\t", "😀", strings.Repeat("z", 20)}).Draw(t, "str"))
		return &Node{Raw: string(s)}
	case 5:
		n := &Node{IsArray: true, Arr: []*Node{}}
		for range rapid.IntRange(0, 3).Draw(t, "len") {
			n.Arr = append(n.Arr, value(t, depth+1))
		}
		return n
	}
	n := &Node{IsObj: true, Obj: []Member{}}
	seen := map[string]bool{}
	for range rapid.IntRange(0, 3).Draw(t, "len") {
		k := rapid.SampledFrom([]string{"a", "b", "pid", "name", "x.y", ""}).Draw(t, "k")
		if !seen[k] {
			seen[k] = true
			n.Obj = append(n.Obj, Member{Key: k, Value: value(t, depth+1)})
		}
	}
	return n
}

// Insert puts the kept members into doc (an object), each in its group's
// object — created, at the end of its parent, when absent — at a position
// drawn among the object's members, keeping the members' relative order.
func Insert(t *rapid.T, doc *Node, kept []Kept) {
	last := map[*Node]int{} // object -> index after the last inserted member
	for _, k := range kept {
		obj := objectAt(doc, k.Group)
		at := rapid.IntRange(last[obj], len(obj.Obj)).Draw(t, "at")
		obj.Obj = append(obj.Obj[:at], append([]Member{{Key: k.Key, Value: k.Value}}, obj.Obj[at:]...)...)
		last[obj] = at + 1
	}
}

// objectAt returns the object at the dotted path in doc, creating it.
func objectAt(doc *Node, path string) *Node {
	if path == "" {
		return doc
	}
	n := doc
	for _, seg := range strings.Split(path, ".") {
		c := n.Get(seg)
		if c == nil {
			c = &Node{IsObj: true, Obj: []Member{}}
			n.Obj = append(n.Obj, Member{Key: seg, Value: c})
		}
		n = c
	}
	return n
}

// Extra draws kept unknown fields: those of a document made only of
// Unknown members, as event.DecodeWith keeps them.
func Extra(t *rapid.T) event.Extra {
	doc := &Node{IsObj: true, Obj: []Member{}}
	Insert(t, doc, Unknown(6).Draw(t, "unknown"))
	e, err := event.DecodeWith([]byte(doc.Render()), event.DecodeOptions{KeepUnknown: true})
	if err != nil {
		t.Fatalf("eventgen: decode %s: %v", doc.Render(), err)
	}
	return e.Extra
}
