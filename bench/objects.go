package bench

import (
	"math/rand/v2"
	"strconv"

	"github.com/eventlogdb/eventlog/event"
)

// Saved objects are numbered 0 to ObjectPool-1, in one run per type
// (objectTypes, rules first: object 0 is the most referenced rule). An
// object's id, name and space are pure functions of its index, so every
// generator — whatever its seed — agrees on them.

// Salts keep the hashes of different attributes of one index independent.
const (
	saltID uint64 = iota + 1
	saltType
	saltSpace
	saltName
	saltLink
	saltServer
)

// mix is splitmix64's finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hashOf hashes object index i under salt.
func hashOf(salt uint64, i int) uint64 { return mix(uint64(i)*0x100 + salt) }

// formatUUID writes hi and lo as a version-4 UUID string.
func formatUUID(hi, lo uint64) string {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(3<<62) | 2<<62
	var b [36]byte
	const hex = "0123456789abcdef"
	pos := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[pos] = '-'
			pos++
		}
		w := hi
		if i >= 16 {
			w = lo
		}
		b[pos] = hex[(w>>(60-4*(i%16)))&0xf]
		pos++
	}
	return string(b[:])
}

// objectID derives the UUID of object i.
func objectID(i int) string {
	return formatUUID(hashOf(saltID, i), hashOf(saltID, i+1<<40))
}

// randomUUID draws a fresh UUID from r.
func randomUUID(r *rand.Rand) string { return formatUUID(r.Uint64(), r.Uint64()) }

// Saved-object types, indexes into objectTypes.
const (
	typeRule = iota
	typeConnector
	typeTask
	typeCase
	typeReport
	typeAgentPolicy
	typeUserProfile
)

// objectTypes split the pool: each type's saved-object type and share of
// the ids, per mille.
var objectTypes = []struct {
	name     string
	perMille int
}{
	{"alert", 600}, {"action", 125}, {"task", 100}, {"cases", 80},
	{"report", 50}, {"ingest-agent-policies", 40}, {"user-profile", 5},
}

// minObjectPool is the smallest pool: every type gets at least one id.
const minObjectPool = 1000

// objects is a generator's view of the saved-object pool: where each type's
// run starts, a Zipf sampler per type and a lazily filled cache of ids.
type objects struct {
	ids   []string
	first []int // first[t] is type t's first index; first[len] the pool size
	zipfs []*rand.Zipf
}

func newObjects(r *rand.Rand, pool int, skew float64) objects {
	o := objects{first: make([]int, len(objectTypes)+1)}
	for t, ot := range objectTypes {
		n := max(pool*ot.perMille/1000, 1)
		o.first[t+1] = o.first[t] + n
		o.zipfs = append(o.zipfs, rand.NewZipf(r, skew, 1, uint64(n-1)))
	}
	o.ids = make([]string, o.first[len(objectTypes)])
	return o
}

// id returns the UUID of object i.
func (o *objects) id(i int) string {
	if o.ids[i] == "" {
		o.ids[i] = objectID(i)
	}
	return o.ids[i]
}

// count is the number of objects of type t.
func (o *objects) count(t int) int { return o.first[t+1] - o.first[t] }

// draw returns the index of an object of type t, the type's k-th most
// popular with probability proportional to (1+k)^-skew.
func (o *objects) draw(t int) int { return o.first[t] + int(o.zipfs[t].Uint64()) }

// nth returns the index of type t's object k mod its count.
func (o *objects) nth(t, k int) int { return o.first[t] + k%o.count(t) }

// rule draws a rule's object index.
func (o *objects) rule() int { return o.draw(typeRule) }

// conn draws a connector's object index.
func (o *objects) conn() int { return o.draw(typeConnector) }

// connOfRule returns the connector rule i notifies: fixed per rule, spread
// over the connectors by a hash.
func (o *objects) connOfRule(i int) int {
	return o.nth(typeConnector, int(hashOf(saltLink, i)>>1))
}

// ref returns the saved-object reference to object i of type t.
func (o *objects) ref(t, i int, rel string) event.SavedObject {
	return event.SavedObject{Rel: rel, Namespace: spaceOf(i), ID: o.id(i), Type: objectTypes[t].name}
}

// skewedPick returns an index below n from hash h, favouring low indexes
// (about half the picks go to the first quarter).
func skewedPick(h uint64, n int) int {
	a, b := int(h%uint64(n)), int((h>>32)%uint64(n))
	return min(a, b)
}

// ruleTypeOf returns rule i's type.
func ruleTypeOf(i int) *ruleType { return &ruleTypes[skewedPick(hashOf(saltType, i), len(ruleTypes))] }

// ruleName returns rule i's name, e.g. "cpu over 90% eu-17".
func ruleName(i int) string {
	rt := ruleTypeOf(i)
	h := hashOf(saltName, i)
	return rt.names[h%uint64(len(rt.names))] + " " + regions[h>>32%uint64(len(regions))] + "-" + strconv.Itoa(int(h>>40%64))
}

var regions = []string{"eu", "us", "ap"}

// connectorOf returns connector i's type id and name, e.g. ".slack",
// "ops-slack-3".
func connectorOf(i int) (typeID, name string) {
	h := hashOf(saltType, i)
	c := connectorTypes[skewedPick(h, len(connectorTypes))]
	return c.id, c.name + "-" + strconv.Itoa(int(h>>40%16))
}

// defaultSpaceShare is the share of objects in the default space, per
// mille.
const defaultSpaceShare = 300

// spaceOf returns object i's space; "" for the default space (30% of the
// objects).
func spaceOf(i int) string {
	h := hashOf(saltSpace, i)
	if h%1000 < defaultSpaceShare {
		return ""
	}
	return spaces[(h>>16)%uint64(len(spaces))]
}

// spaceIDs returns the kibana.space_ids value for an object in space.
func spaceIDs(space string) []string {
	if space == "" {
		return []string{event.DefaultSpace}
	}
	return []string{space}
}
