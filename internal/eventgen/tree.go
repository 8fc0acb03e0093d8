// Package eventgen generates, for property tests, event documents with
// fields outside the event schema, and holds the ordered JSON tree the
// tests use to build such documents and to check what comes back.
package eventgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Node is a JSON value with object members in document order.
type Node struct {
	// Raw is a scalar's JSON text (string, number, true, false, null).
	Raw     string
	IsArray bool
	Arr     []*Node
	IsObj   bool
	Obj     []Member
}

// Member is one key of an object.
type Member struct {
	Key   string
	Value *Node
}

// Parse reads one JSON value, keeping member order and number text.
func Parse(doc []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("eventgen: data after the value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			n := &Node{IsArray: true, Arr: []*Node{}}
			for dec.More() {
				e, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.Arr = append(n.Arr, e)
			}
			_, err := dec.Token()
			return n, err
		}
		n := &Node{IsObj: true, Obj: []Member{}}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			e, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			n.Obj = append(n.Obj, Member{Key: k.(string), Value: e})
		}
		_, err := dec.Token()
		return n, err
	case json.Number:
		return &Node{Raw: v.String()}, nil
	case nil:
		return &Node{Raw: "null"}, nil
	}
	raw, err := json.Marshal(tok)
	return &Node{Raw: string(raw)}, err
}

// Render writes n as compact JSON, strings escaped as encoding/json does.
func (n *Node) Render() string {
	var b strings.Builder
	n.render(&b)
	return b.String()
}

func (n *Node) render(b *strings.Builder) {
	switch {
	case n.IsArray:
		b.WriteByte('[')
		for i, e := range n.Arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.render(b)
		}
		b.WriteByte(']')
	case n.IsObj:
		b.WriteByte('{')
		for i, m := range n.Obj {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.Key)
			b.Write(k)
			b.WriteByte(':')
			m.Value.render(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString(n.Raw)
	}
}

// Get returns the member key of object n, or nil.
func (n *Node) Get(key string) *Node {
	for _, m := range n.Obj {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}
