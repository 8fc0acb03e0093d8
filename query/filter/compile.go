package filter

import (
	"github.com/eventlogdb/eventlog/event"
)

// The compiled forms: a predicate on an event, and inside a nested query a
// predicate on one saved-object ref.
type (
	evalFn = func(*event.Event) bool
	refFn  = func(*event.SavedObject) bool
)

// compile turns the tree under n into an event predicate. at is the parent's
// position, for errors about a missing node.
func compile(n Node, at, depth int) (evalFn, error) {
	if err := checkNode(n, at, depth); err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case *And:
		fns, err := compileAll(n.Nodes, n.At, depth, compile)
		return allOf(fns), err
	case *Or:
		fns, err := compileAll(n.Nodes, n.At, depth, compile)
		return anyOf(fns), err
	case *Not:
		fn, err := compile(n.Node, n.At, depth+1)
		return not(fn), err
	case *Nested:
		if n.Path.Field == nil || n.Path.Field.Name != refsName || n.Path.Sub != "" {
			return nil, errorf(n.At, "only %s takes a nested query {...}", refsName)
		}
		inner, err := compileRef(n.Node, n.At, depth+1)
		return anyRef(inner), err
	}
	if isRef(pathOf(n)) {
		fn, pr := refLeaf(n)
		if pr != nil {
			return nil, errorf(n.Pos(), "%s", pr.msg)
		}
		return anyRef(fn), nil
	}
	fn, pr := eventLeaf(n)
	if pr != nil {
		return nil, errorf(n.Pos(), "%s", pr.msg)
	}
	return fn, nil
}

// compileRef turns the tree inside a nested query into a ref predicate.
func compileRef(n Node, at, depth int) (refFn, error) {
	if err := checkNode(n, at, depth); err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case *And:
		fns, err := compileAll(n.Nodes, n.At, depth, compileRef)
		return allOf(fns), err
	case *Or:
		fns, err := compileAll(n.Nodes, n.At, depth, compileRef)
		return anyOf(fns), err
	case *Not:
		fn, err := compileRef(n.Node, n.At, depth+1)
		return not(fn), err
	case *Nested:
		return nil, errorf(n.At, "a nested query cannot hold another")
	}
	if !isRef(pathOf(n)) {
		return nil, errorf(n.Pos(), "inside a nested query every field must be a property of %s (%s)", refsName, refPropList)
	}
	fn, pr := refLeaf(n)
	if pr != nil {
		return nil, errorf(n.Pos(), "%s", pr.msg)
	}
	return fn, nil
}

func compileAll[T any](nodes []Node, at, depth int, c func(Node, int, int) (T, error)) ([]T, error) {
	out := make([]T, 0, len(nodes))
	for _, n := range nodes {
		fn, err := c(n, at, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	return out, nil
}

// checkNode rejects what a hand-built tree may hold and a parsed one never
// does: nil nodes, unknown node types, runaway depth, leaves without a known
// field.
func checkNode(n Node, at, depth int) error {
	if isNilNode(n) {
		return errorf(at, "missing condition (nil node)")
	}
	if depth > maxTreeDepth {
		return errorf(n.Pos(), "nesting deeper than %d levels", maxTreeDepth)
	}
	switch n := n.(type) {
	case *And, *Or, *Not:
		return nil
	case *Match, *Prefix, *Exists, *Range, *Nested:
		p := pathOf(n)
		if p.Field == extraField && p.Field != nil {
			if !event.CanKeep(p.Sub) || p.Sub == "" {
				return errorf(n.Pos(), "%s cannot be a kept field: it is (or is below) a field of the schema", quoteName(p.Sub))
			}
			return nil
		}
		if p.Field == nil || event.FieldByName(p.Field.Name) != p.Field {
			return errorf(n.Pos(), "%s is not a field of the event schema (use event.FieldByName)", quoteName(p.String()))
		}
		if p.Sub != "" && p.Field != labelsField && !(p.Field == refsField && isRefProp(p.Sub)) {
			return errorf(n.Pos(), "unknown field %s", quoteName(p.String()))
		}
		return nil
	}
	return errorf(n.Pos(), "unknown node type %T", n)
}

// isNilNode reports whether n is nil or a nil pointer of a node type.
func isNilNode(n Node) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *And:
		return n == nil
	case *Or:
		return n == nil
	case *Not:
		return n == nil
	case *Match:
		return n == nil
	case *Prefix:
		return n == nil
	case *Exists:
		return n == nil
	case *Range:
		return n == nil
	case *Nested:
		return n == nil
	}
	return false
}

// pathOf returns the Path of a leaf or nested query.
func pathOf(n Node) Path {
	switch n := n.(type) {
	case *Match:
		return n.Path
	case *Prefix:
		return n.Path
	case *Exists:
		return n.Path
	case *Range:
		return n.Path
	case *Nested:
		return n.Path
	}
	return Path{}
}

// isRef reports whether p names a property of the saved-object refs.
func isRef(p Path) bool { return p.Field == refsField && p.Sub != "" }

// leafProblem is why the leaf n (built by the parser) cannot be evaluated,
// or nil.
func leafProblem(n Node) *problem {
	if isRef(pathOf(n)) {
		_, pr := refLeaf(n)
		return pr
	}
	_, pr := eventLeaf(n)
	return pr
}

func allOf[T any](fns []func(T) bool) func(T) bool {
	switch len(fns) {
	case 1:
		return fns[0]
	case 2:
		a, b := fns[0], fns[1]
		return func(x T) bool { return a(x) && b(x) }
	}
	return func(x T) bool {
		for _, f := range fns {
			if !f(x) {
				return false
			}
		}
		return true
	}
}

func anyOf[T any](fns []func(T) bool) func(T) bool {
	switch len(fns) {
	case 1:
		return fns[0]
	case 2:
		a, b := fns[0], fns[1]
		return func(x T) bool { return a(x) || b(x) }
	}
	return func(x T) bool {
		for _, f := range fns {
			if f(x) {
				return true
			}
		}
		return false
	}
}

func not[T any](fn func(T) bool) func(T) bool {
	if fn == nil {
		return nil
	}
	return func(x T) bool { return !fn(x) }
}

// anyRef lifts a ref predicate to the event: some ref satisfies it.
func anyRef(fn refFn) evalFn {
	if fn == nil {
		return nil
	}
	return func(e *event.Event) bool {
		refs := e.Kibana.SavedObjects
		for i := range refs {
			if fn(&refs[i]) {
				return true
			}
		}
		return false
	}
}

// CompileRef compiles a condition on one saved-object ref — the inside of
// a nested query, or a leaf on a ref property such as
// kibana.saved_objects.id:abc — into a predicate on a ref. The query
// planner runs it on the refs that posting keys stand for.
func CompileRef(n Node) (func(*event.SavedObject) bool, error) { return compileRef(n, 0, 0) }
