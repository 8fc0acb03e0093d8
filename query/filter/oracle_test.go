package filter

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eventlogdb/eventlog/event"
)

// oracle evaluates a tree on an event directly from the language's
// definition, sharing no code with eval.go or text.go: values are read by
// field name, message words come from strings.FieldsFunc and compare with
// strings.EqualFold, phrases are found by brute force. ref is the ref under
// test inside a nested query.
func oracle(n Node, ev *event.Event, ref *event.SavedObject) bool {
	switch n := n.(type) {
	case *And:
		for _, c := range n.Nodes {
			if !oracle(c, ev, ref) {
				return false
			}
		}
		return true
	case *Or:
		for _, c := range n.Nodes {
			if oracle(c, ev, ref) {
				return true
			}
		}
		return false
	case *Not:
		return !oracle(n.Node, ev, ref)
	case *Nested:
		for i := range ev.Kibana.SavedObjects {
			if oracle(n.Node, ev, &ev.Kibana.SavedObjects[i]) {
				return true
			}
		}
		return false
	}
	p := pathOf(n)
	if p.Field.Name == "kibana.saved_objects" && ref == nil {
		for i := range ev.Kibana.SavedObjects {
			if oracle(n, ev, &ev.Kibana.SavedObjects[i]) {
				return true
			}
		}
		return false
	}
	if _, ok := n.(*Exists); ok {
		return len(oracleValues(p, ev, ref, true)) > 0
	}
	if p.Field.Name == "message" {
		return oracleText(n, ev.Message)
	}
	for _, v := range oracleValues(p, ev, ref, false) {
		if oracleLeaf(n, p, v) {
			return true
		}
	}
	return false
}

// oracleValues returns the values present at p as text. raw: the ref
// namespace as stored, for exists.
func oracleValues(p Path, ev *event.Event, ref *event.SavedObject, raw bool) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch p.Field.Name {
	case "event.action":
		return one(ev.Event.Action)
	case "event.outcome":
		return one(ev.Event.Outcome)
	case "tags":
		return ev.Tags.Values
	case "labels":
		if v, ok := ev.Labels[p.Sub]; ok {
			return []string{v}
		}
		return nil
	case "event.sequence":
		if ev.Event.Sequence == nil {
			return nil
		}
		return []string{strconv.FormatInt(*ev.Event.Sequence, 10)}
	case "event.duration":
		if ev.Event.Duration == nil {
			return nil
		}
		return []string{strconv.FormatInt(ev.Event.Duration.Nanos, 10)}
	case "event.risk_score":
		if ev.Event.RiskScore == nil {
			return nil
		}
		return []string{strconv.FormatFloat(*ev.Event.RiskScore, 'g', -1, 64)}
	case "@timestamp":
		return one(ev.Timestamp.String())
	case "event.start":
		return one(ev.Event.Start.String())
	case "source.ip":
		return one(ev.Source.IP)
	case "message":
		return one(ev.Message)
	case "kibana.saved_objects":
		switch p.Sub {
		case "type":
			return one(ref.Type)
		case "id":
			return one(ref.ID)
		case "namespace":
			if raw || ref.Namespace != "" {
				return one(ref.Namespace)
			}
			return []string{"default"}
		}
	}
	panic("oracle: field not in the test vocabulary: " + p.String())
}

// oracleLeaf compares one present value v with a Match, Prefix or Range.
func oracleLeaf(n Node, p Path, v string) bool {
	switch n := n.(type) {
	case *Prefix:
		return strings.HasPrefix(v, n.Prefix)
	case *Match:
		switch p.Field.Name {
		case "source.ip":
			a := netip.MustParseAddr(v)
			if pfx, err := netip.ParsePrefix(n.Value); err == nil {
				return pfx.Contains(a)
			}
			return a == netip.MustParseAddr(n.Value)
		case "event.sequence", "event.duration", "event.risk_score", "@timestamp", "event.start":
			return oracleCompare(p, v, n.Value) == 0
		}
		return v == n.Value
	case *Range:
		c := oracleCompare(p, v, n.Value)
		switch n.Op {
		case OpLT:
			return c < 0
		case OpLTE:
			return c <= 0
		case OpGT:
			return c > 0
		case OpGTE:
			return c >= 0
		}
	}
	panic("oracle: unexpected node")
}

// oracleCompare orders two values of a number or date field given as text.
func oracleCompare(p Path, a, b string) int {
	switch p.Field.Name {
	case "event.risk_score":
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return sign(x - y)
	case "@timestamp", "event.start":
		x, _ := event.ParseDate(a)
		y, _ := event.ParseDate(b)
		return x.Time().Compare(y.Time())
	}
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return sign(float64(x - y))
}

func sign(x float64) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// oracleText evaluates a Match or Prefix on the message text.
func oracleText(n Node, msg string) bool {
	have := splitWords(msg)
	contains := func(w string) bool {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return true
			}
		}
		return false
	}
	switch n := n.(type) {
	case *Match:
		want := splitWords(n.Value)
		if len(want) == 0 {
			return false
		}
		if !n.Quoted {
			for _, w := range want {
				if !contains(w) {
					return false
				}
			}
			return true
		}
		for i := 0; i+len(want) <= len(have); i++ {
			j := 0
			for j < len(want) && strings.EqualFold(have[i+j], want[j]) {
				j++
			}
			if j == len(want) {
				return true
			}
		}
		return false
	case *Prefix:
		want := splitWords(n.Prefix)
		if len(want) == 0 {
			return false
		}
		for _, w := range want[:len(want)-1] {
			if !contains(w) {
				return false
			}
		}
		last := want[len(want)-1]
		k := utf8.RuneCountInString(last)
		for _, h := range have {
			if r := []rune(h); len(r) >= k && strings.EqualFold(string(r[:k]), last) {
				return true
			}
		}
		return false
	}
	panic("oracle: unexpected text node")
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
