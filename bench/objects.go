package bench

import (
	"math/rand/v2"
	"strconv"

	"github.com/eventlogdb/eventlog/event"
)

// Saved objects are numbered 0 to ObjectPool-1. Every eighth (index%8 == 7)
// is a connector (an "action" saved object), the rest are rules ("alert"
// saved objects). An object's id, type, name and space are pure functions of
// its index, so every generator — whatever its seed — agrees on them.

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

// objects is a generator's view of the saved-object pool: the two Zipf
// samplers and a lazily filled cache of ids.
type objects struct {
	ids          []string
	rules, conns *rand.Zipf
}

func newObjects(r *rand.Rand, pool int, skew float64) objects {
	nRules, nConns := pool-pool/8, pool/8
	return objects{
		ids:   make([]string, pool),
		rules: rand.NewZipf(r, skew, 1, uint64(nRules-1)),
		conns: rand.NewZipf(r, skew, 1, uint64(nConns-1)),
	}
}

// id returns the UUID of object i.
func (o *objects) id(i int) string {
	if o.ids[i] == "" {
		o.ids[i] = objectID(i)
	}
	return o.ids[i]
}

// rule draws a rule's object index; rule k (0 most popular) is object
// k/7*8 + k%7.
func (o *objects) rule() int {
	k := int(o.rules.Uint64())
	return k/7*8 + k%7
}

// conn draws a connector's object index; connector k is object k*8+7.
func (o *objects) conn() int { return int(o.conns.Uint64())*8 + 7 }

// connOfRule returns the connector rule i notifies: fixed per rule, spread
// over the connectors by a hash.
func (o *objects) connOfRule(i int) int {
	n := len(o.ids) / 8
	return int(hashOf(saltLink, i)%uint64(n))*8 + 7
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

// spaceOf returns object i's space; "" for the default space.
func spaceOf(i int) string {
	h := hashOf(saltSpace, i)
	if h%5 != 0 {
		return ""
	}
	return spaces[(h>>8)%uint64(len(spaces))]
}

// spaceIDs returns the kibana.space_ids value for an object in space.
func spaceIDs(space string) []string {
	if space == "" {
		return []string{event.DefaultSpace}
	}
	return []string{space}
}
