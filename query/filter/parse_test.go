package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseTree(t *testing.T) {
	cases := map[string]string{
		"":        "",
		" \t\r\n": "",

		// field:value and its spellings
		`event.action:execute`:                   `(match event.action "execute")`,
		`event.action : execute`:                 `(match event.action "execute")`,
		`event.action:"execute"`:                 `(match event.action "execute")`,
		`"event.action":execute`:                 `(match event.action "execute")`,
		`event.action:"a \"b\" \\ c"`:            `(match event.action "a \"b\" \\ c")`,
		`event.action:"a\nb"`:                    `(match event.action "a\\nb")`,
		`event.action:"a*b"`:                     `(match event.action "a*b")`,
		`event.action:a\*b`:                      `(match event.action "a*b")`,
		`event.action:a\:b`:                      `(match event.action "a:b")`,
		`event.action:\(x\)`:                     `(match event.action "(x)")`,
		`event.action:\and`:                      `(match event.action "and")`,
		`event.action:\"x`:                       `(match event.action "\"x")`,
		`event.action:x\*`:                       `(match event.action "x*")`,
		`event.action:x\**`:                      `(prefix event.action "x*")`,
		`user.full_name:Ada   Lovelace`:          `(match user.full_name "Ada   Lovelace")`,
		`user.full_name:Ada\ Lovelace`:           `(match user.full_name "Ada Lovelace")`,
		`event.action:execute and(tags:x)`:       `(and (match event.action "execute") (match tags "x"))`,
		`event.sequence:5`:                       `(match event.sequence "5")`,
		`@timestamp:"2024-05-01T00:00:00Z"`:      `(match @timestamp "2024-05-01T00:00:00Z")`,
		`client.ip:"::1"`:                        `(match client.ip "::1")`,
		`source.ip:10.0.0.0/8`:                   `(match source.ip "10.0.0.0/8")`,
		`labels.team:infra`:                      `(match labels.team "infra")`,
		`labels.my\ key:x`:                       `(match "labels.my key" "x")`,
		`labels:*`:                               `(exists labels)`,
		`kibana.saved_objects.id:abc`:            `(match kibana.saved_objects.id "abc")`,
		`kibana.saved_objects.namespace:default`: `(match kibana.saved_objects.namespace "default")`,
		`kibana.saved_objects:*`:                 `(exists kibana.saved_objects)`,

		// text
		`message:disk full`:   `(match message "disk full")`,
		`message:"disk full"`: `(phrase message "disk full")`,
		`timeout`:             `(match message "timeout")`,
		`disk full`:           `(match message "disk full")`,
		`"disk full"`:         `(phrase message "disk full")`,
		`time*`:               `(prefix message "time")`,
		`*`:                   `(exists message)`,
		`disk ful*`:           `(prefix message "disk ful")`,

		// wildcards
		`event.action:*`:     `(exists event.action)`,
		`event.action:(*)`:   `(exists event.action)`,
		`event.action:exec*`: `(prefix event.action "exec")`,
		`user.name:*`:        `(exists user.name)`,

		// value lists
		`event.action:(execute)`:          `(match event.action "execute")`,
		`event.action:(a or b or c)`:      `(or (match event.action "a") (match event.action "b") (match event.action "c"))`,
		`event.action:(a and not b)`:      `(and (match event.action "a") (not (match event.action "b")))`,
		`event.action:(a or (b and c*))`:  `(or (match event.action "a") (and (match event.action "b") (prefix event.action "c")))`,
		`event.action:(a b or "c d")`:     `(or (match event.action "a b") (match event.action "c d"))`,
		`event.action:(a or b) or tags:c`: `(or (match event.action "a") (match event.action "b") (match tags "c"))`,
		`event.action:(not a)`:            `(not (match event.action "a"))`,

		// operators, precedence, flattening
		`event.action:a and event.outcome:b or tags:c`:      `(or (and (match event.action "a") (match event.outcome "b")) (match tags "c"))`,
		`event.action:a or event.outcome:b and tags:c`:      `(or (match event.action "a") (and (match event.outcome "b") (match tags "c")))`,
		`NOT event.action:a AND event.outcome:b Or tags:c`:  `(or (and (not (match event.action "a")) (match event.outcome "b")) (match tags "c"))`,
		`not not event.action:a`:                            `(not (not (match event.action "a")))`,
		`not (event.action:a or tags:b)`:                    `(not (or (match event.action "a") (match tags "b")))`,
		`event.action:a and (event.outcome:b and tags:c)`:   `(and (match event.action "a") (match event.outcome "b") (match tags "c"))`,
		`((event.action:a or tags:b)) or event.outcome:c`:   `(or (match event.action "a") (match tags "b") (match event.outcome "c"))`,
		`(event.action:a or tags:b) and (tags:x or tags:y)`: `(and (or (match event.action "a") (match tags "b")) (or (match tags "x") (match tags "y")))`,
		`event.action:execute and not user.name:*`:          `(and (match event.action "execute") (not (exists user.name)))`,
		`rock and roll`: `(and (match message "rock") (match message "roll"))`,

		// ranges
		`event.duration >= 1000000`:                   `(range event.duration >= 1000000)`,
		`event.duration>=1000000`:                     `(range event.duration >= 1000000)`,
		`event.duration > "1000"`:                     `(range event.duration > 1000)`,
		`event.sequence <= -3`:                        `(range event.sequence <= -3)`,
		`event.sequence < 007`:                        `(range event.sequence < 7)`,
		`event.risk_score > 0.5`:                      `(range event.risk_score > 0.5)`,
		`event.risk_score < 1e3`:                      `(range event.risk_score < 1000)`,
		`@timestamp < "2024-05-01T00:00:00Z"`:         `(range @timestamp < "2024-05-01T00:00:00Z")`,
		`@timestamp >= "2024-05-01T02:00:00.5+02:00"`: `(range @timestamp >= "2024-05-01T00:00:00.5Z")`,
		`event.duration >= 5 and event.duration < 10`: `(and (range event.duration >= 5) (range event.duration < 10))`,

		// saved-object refs
		`kibana.saved_objects:{ type: "alert" and id: "abc" }`:              `(nested kibana.saved_objects (and (match kibana.saved_objects.type "alert") (match kibana.saved_objects.id "abc")))`,
		`kibana.saved_objects:{type:alert}`:                                 `(nested kibana.saved_objects (match kibana.saved_objects.type "alert"))`,
		`kibana.saved_objects:{ id:(a or b) }`:                              `(nested kibana.saved_objects (or (match kibana.saved_objects.id "a") (match kibana.saved_objects.id "b")))`,
		`kibana.saved_objects:{ type_id:x* and not rel:* }`:                 `(nested kibana.saved_objects (and (prefix kibana.saved_objects.type_id "x") (not (exists kibana.saved_objects.rel))))`,
		`kibana.saved_objects:{ (type:a or type:b) and namespace:default }`: `(nested kibana.saved_objects (and (or (match kibana.saved_objects.type "a") (match kibana.saved_objects.type "b")) (match kibana.saved_objects.namespace "default")))`,
	}
	for text, want := range cases {
		f, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(%q): %v", text, err)
			continue
		}
		if got := f.String(); got != want {
			t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", text, got, want)
		}
	}
}

// positions lists every node of the tree as "kind@pos" in preorder.
func positions(n Node) []string {
	var out []string
	var visit func(Node)
	visit = func(n Node) {
		kind := strings.TrimPrefix(fmt.Sprintf("%T", n), "*filter.")
		out = append(out, fmt.Sprintf("%s@%d", kind, n.Pos()))
		switch n := n.(type) {
		case *And:
			for _, c := range n.Nodes {
				visit(c)
			}
		case *Or:
			for _, c := range n.Nodes {
				visit(c)
			}
		case *Not:
			visit(n.Node)
		case *Nested:
			visit(n.Node)
		}
	}
	visit(n)
	return out
}

func TestParsePositions(t *testing.T) {
	cases := map[string]string{
		`event.action:execute and not user.name:*`:    "And@1 Match@1 Not@26 Exists@30",
		`  event.action:(a or not b*)`:                "Or@17 Match@17 Not@22 Prefix@26",
		`disk full or "x"`:                            "Or@1 Match@1 Match@14",
		`(tags:a) and event.duration > 5`:             "And@2 Match@2 Range@14",
		`kibana.saved_objects:{ type:a and id:b }`:    "Nested@1 And@24 Match@24 Match@35",
		`message:héllo or tags:x`:                     "Or@1 Match@1 Match@18",
		"tags:a\n\tor\ttags:b":                        "Or@1 Match@1 Match@12",
		`event.action:(a or b) or not event.action:c`: "Or@15 Match@15 Match@20 Not@26 Match@30",
	}
	for text, want := range cases {
		f, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(%q): %v", text, err)
			continue
		}
		if got := strings.Join(positions(f.Root), " "); got != want {
			t.Errorf("Parse(%q) positions = %s, want %s", text, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth) + "tags:a" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(deep); err != nil {
		t.Errorf("Parse(%d parentheses): %v", MaxDepth, err)
	}
	cases := map[string]string{
		// syntax
		`event.action: `:             `at 15: expected value after ':'`,
		`event.action:"abc`:          `at 14: unterminated quoted string`,
		`x "abc`:                     `at 3: unterminated quoted string`,
		`(event.action:a`:            `at 1: '(' is never closed`,
		`event.action:(a or b`:       `at 14: '(' is never closed`,
		`event.action:a or tags:b)`:  `at 25: unexpected ')'`,
		`event.action:a and )`:       `at 20: unexpected ')'`,
		`()`:                         `at 2: unexpected ')'`,
		`}`:                          `at 1: unexpected '}'`,
		`event.action:a tags:b`:      `at 16: expected 'and' or 'or'`,
		`"disk full" timeout`:        `at 13: expected 'and' or 'or'`,
		`timeout "disk full"`:        `at 9: expected 'and' or 'or'`,
		`event.action:a not tags:b`:  `at 16: expected 'and' or 'or'`,
		`(tags:a) (tags:b)`:          `at 10: expected 'and' or 'or'`,
		`(tags:a tags:b)`:            `at 9: expected 'and', 'or' or ')'`,
		`event.action:(a tags:b)`:    `at 17: expected 'and', 'or' or ')'`,
		`event.action:(a or tags:b)`: `at 20: expected a value of event.action, not a field, inside event.action:(...)`,
		`event.action:a:b`:           `at 15: unexpected ':' (quote a value that contains ':')`,
		`and`:                        `at 1: unexpected 'and'`,
		`tags:a or or tags:b`:        `at 11: unexpected 'or'`,
		`event.action:a and`:         `at 19: expected an expression after 'and'`,
		`not`:                        `at 4: expected an expression after 'not'`,
		`(`:                          `at 2: expected an expression after '('`,
		`:x`:                         `at 1: expected a field name before ':'`,
		`>= 5`:                       `at 1: expected a field name before '>='`,
		`event.action:and`:           `at 14: expected value after ':' ('and' is a keyword: quote it to search for it)`,
		`event.action:(a or)`:        `at 19: expected value after 'or'`,
		`event.action:a\`:            `at 15: '\' at the end of the filter escapes nothing`,
		`client.ip:::1`:              `at 11: expected value after ':'`,
		`{tags:a}`:                   `at 1: unexpected '{'`,

		// wildcards
		`event.action:a*b`:     `at 15: wildcards are supported only at the end of a value`,
		`event.action:*a`:      `at 14: wildcards are supported only at the end of a value`,
		`event.action:a** `:    `at 15: wildcards are supported only at the end of a value`,
		`event.action:a* b`:    `at 15: wildcards are supported only at the end of a value`,
		`*:x`:                  `at 1: wildcards are not supported in field names`,
		`event.sequence:5*`:    `at 1: wildcard on event.sequence: wildcards need a keyword or text field`,
		`event.duration >= 5*`: `at 20: wildcards are not allowed in a range`,

		// fields
		`event.action.x:y`:                         `at 1: unknown field "event.action.x" (nearest: event.action, event.code, event.duration)`,
		`tags:a and kibana.alert:x`:                `at 12: unknown field "kibana.alert" (nearest: kibana.task.id, kibana.version, kibana.namespace)`,
		`labels.:x`:                                `at 1: empty label key in "labels."`,
		`labels:x`:                                 `at 1: labels needs a key: labels.KEY:value`,
		`kibana.saved_objects:x`:                   `at 1: kibana.saved_objects needs a property (kibana.saved_objects.id:abc) or a nested query (kibana.saved_objects:{...})`,
		`kibana.saved_objects.foo:x`:               `at 1: unknown saved-object property "foo" in "kibana.saved_objects.foo" (expected type, id, rel, namespace or type_id)`,
		`kibana.saved_objects:{ foo:x }`:           `at 24: unknown field "foo" inside kibana.saved_objects:{...} (expected type, id, rel, namespace or type_id)`,
		`kibana.saved_objects:{ id:x or timeout }`: `at 32: expected a field name (type, id, rel, namespace or type_id) inside kibana.saved_objects:{...}`,
		`kibana.saved_objects:{ type:a`:            `at 22: '{' is never closed`,
		`kibana.saved_objects:{ type:a )`:          `at 31: expected 'and', 'or' or '}'`,
		`kibana.saved_objects:{}`:                  `at 23: unexpected '}'`,
		`event.action:{ x:y }`:                     `at 14: only kibana.saved_objects takes a nested query {...}`,
		`kibana.saved_objects:{ type:{ id:x } }`:   `at 29: only kibana.saved_objects takes a nested query {...}`,

		// ranges and values
		`event.action >= 5`:                     `at 1: range on event.action: ranges need a number or date field`,
		`labels.team > 5`:                       `at 1: range on labels.team: ranges need a number or date field`,
		`kibana.saved_objects:{ type > 5 }`:     `at 24: range on kibana.saved_objects.type: ranges need a number or date field`,
		`event.duration >= `:                    `at 19: expected value after '>='`,
		`event.duration >= (5)`:                 `at 19: expected value after '>='`,
		`event.sequence:abc`:                    `at 16: invalid integer "abc" for event.sequence`,
		`event.sequence:(1 or x)`:               `at 22: invalid integer "x" for event.sequence`,
		`event.duration >= 1s`:                  `at 19: invalid integer "1s" for event.duration`,
		`event.sequence > 99999999999999999999`: `at 18: invalid integer "99999999999999999999" for event.sequence`,
		`event.risk_score < NaN`:                `at 20: invalid number "NaN" for event.risk_score`,
		`event.risk_score:1e999`:                `at 18: invalid number "1e999" for event.risk_score`,
		`@timestamp < yesterday`:                `at 14: invalid date "yesterday" for @timestamp: expected an RFC 3339 date like 2019-12-09T21:16:43.425Z (quote dates: they contain ':')`,
		`@timestamp < 2024-05-01T00:00:00Z`:     `at 14: invalid date "2024-05-01T00" for @timestamp: expected an RFC 3339 date like 2019-12-09T21:16:43.425Z (quote dates: they contain ':')`,
		`event.start:"2024-13-01T00:00:00Z"`:    `at 13: invalid date "2024-13-01T00:00:00Z" for event.start: expected an RFC 3339 date like 2019-12-09T21:16:43.425Z (a field is out of range)`,
		`source.ip:banana`:                      `at 11: invalid IP address or CIDR prefix "banana" for source.ip`,

		// positions count characters, not bytes
		`message:héllo tags:x`: `at 15: expected 'and' or 'or'`,

		// limits
		strings.Repeat("(", MaxDepth+1) + "tags:a" + strings.Repeat(")", MaxDepth+1):      `at 65: nesting deeper than 64 levels`,
		strings.Repeat("not ", MaxDepth+1) + "tags:a":                                     `at 257: nesting deeper than 64 levels`,
		"tags:" + strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1): `at 70: nesting deeper than 64 levels`,
		strings.Repeat("a", MaxLength+1):                                                  `at 1: filter is 16385 bytes long; the limit is 16384`,
	}
	for text, want := range cases {
		_, err := Parse(text)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%.40q) = %v, want *Error %q", text, err, want)
			continue
		}
		if got := err.Error(); got != "filter: "+want {
			t.Errorf("Parse(%.40q):\n  %s\nwant\n  filter: %s", text, got, want)
		}
	}
}
