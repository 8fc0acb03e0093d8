// Package filter parses the filter parameter of the Kibana event log API
// (GET /api/event_log/{type}/{id}/_find?filter=...), the subset of Kibana's
// KQL that the event log accepts, into a syntax tree with positions, and
// evaluates it on one event. It is a leaf: it reads events, never storage.
//
// # Language
//
// Conditions on a field:
//
//	event.action:execute             the field equals the value
//	event.action:"execute-start"     a quoted value: \" and \\ are escapes
//	user.full_name:Ada Lovelace      bare words up to an operator, ')' or the
//	                                 end form one value ("Ada Lovelace", the
//	                                 whitespace between them as written)
//	event.action:(execute or start)  a value list: and, or, not and parentheses
//	event.action:(a and not b)       combine values of the same field
//	user.name:*                      the field is present
//	rule.name:disk*                  prefix: the value starts with "disk"
//	event.duration >= 1000000        ranges: <, <=, >, >=
//	@timestamp < "2024-05-01T00:00:00Z"
//
// Free text, without a field, searches message: timeout, "disk full", time*.
//
// Whitespace and ( ) : < > " { } end a bare word. In a bare word a
// backslash makes the next character ordinary, so \*, \:, \(, \", \ (a
// space) and \and (a keyword as a value) are literal. A '*' is a wildcard
// only at the end of a value; anywhere else it is an error (escape it or
// quote the value). Values containing ':' (IPv6 addresses, dates) must be
// quoted or have the ':' escaped. Inside quotes only \" and \\ are escapes;
// '*' and keywords are literal.
//
// Conditions combine with and, or, not and parentheses. not binds tightest,
// then and, then or; keywords are case-insensitive (AND, Or) and are bare
// words, so whitespace or a parenthesis must separate them from their
// operands (tags:a and(tags:b) is accepted).
// Two conditions side by side without an operator are an error
// (a:b c:d: expected 'and' or 'or'), except for the bare words of one value.
//
// # Fields
//
// Field names are the event's dotted paths (event.Fields), plus:
//
//	labels.KEY:value                 the label KEY (any key); labels:* is true
//	                                 when the event has any label
//	kibana.saved_objects.id:abc      some ref has id abc; also type, rel,
//	                                 namespace and type_id
//	kibana.saved_objects:{ type:alert and id:abc }
//	                                 one ref satisfies the whole inner query,
//	                                 whose fields are type, id, rel, namespace
//	                                 and type_id
//	kibana.saved_objects:*           the event has a ref
//
// A ref without a namespace is in space "default", so
// kibana.saved_objects.namespace:default matches it; namespace:* holds only
// for refs that have a namespace.
//
// A name outside the schema is a kept unknown field (documents ingested
// with unknown fields kept, event.DecodeWith): syslog.facility:local0,
// process.pid > 100, agent.name:vector*, host.architecture:*. It is
// evaluated on the stored values, no index helps, and on events that did
// not keep it, or on a store that keeps nothing, it matches nothing — as
// Kibana's KQL treats an unmapped field. A misspelt schema field therefore
// matches nothing too. What no document can keep is still an error listing
// the three nearest field names: a schema object (kibana.alert) or a path
// below a schema field (event.action.x). The value's JSON type decides
// (see kept.go): strings compare as keywords, numbers numerically (a
// number value in the filter), booleans as true/false; null matches
// nothing, and field:* holds for any value but null. Ranges compare
// numbers numerically and strings bytewise.
//
// # Meaning by field kind
//
// Keyword fields (strings, string lists, labels, ref properties): equality
// of the whole value, case-sensitive; a list matches when any element does.
// A prefix compares the start of the value.
//
// message is text: it and the value are split into words (maximal runs of
// Unicode letters and digits) compared case-insensitively (simple Unicode
// case folding). An unquoted value matches when every one of its words is in
// the message, in any order; a quoted value is a phrase, its words
// consecutive in the message. A prefix matches when a word of the message
// starts with the prefix's last word and the prefix's other words are in the
// message. A value with no words matches nothing.
//
// IP fields (source.ip, client.ip): the value is an address, compared as an
// address (::1 equals 0:0:0:0:0:0:0:1; IPv4-mapped addresses such as
// ::ffff:10.0.0.1 are distinct from IPv4 ones), or a CIDR prefix that must
// contain it (source.ip:10.0.0.0/8). A wildcard compares the text as stored.
//
// Date fields: the value is an RFC 3339 date (event.ParseDate); equality and
// ranges compare instants. Integer fields and event.duration (nanoseconds):
// the value is a decimal integer. Float fields: a finite decimal number.
// Ranges work only on these kinds; wildcards only on keyword fields and
// message. A value that does not parse for its field is an error.
//
// An absent field matches no value, no prefix and no range: not field:value
// holds for events without the field. An empty string counts as absent.
//
// # Errors and limits
//
// Errors are *Error with a 1-based character position: "filter: at 15:
// expected value after ':'". The text may be at most MaxLength bytes and
// nest parentheses, braces and not at most MaxDepth deep; parsing is linear
// in the text.
//
// # Trees
//
// Parse returns the tree in Filter.Root: *And and *Or (flattened, 2 or more
// nodes), *Not, and the leaves *Match, *Prefix, *Exists, *Range and *Nested.
// Each node's Pos is where it starts: the field of field:value, or the value
// itself inside a value list. Node.String gives a canonical s-expression:
//
//	(and (match event.action "execute") (not (exists user.name)))
//	(or (prefix message "time") (phrase message "disk full"))
//	(range event.duration >= 1000000)
//	(nested kibana.saved_objects (match kibana.saved_objects.type "alert"))
//
// New compiles a tree built or rewritten by a caller (a query planner that
// keeps part of a filter for after an index lookup) with the same checks.
package filter
