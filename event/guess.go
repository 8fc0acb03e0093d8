package event

// Guessed keys. The documents of one _bulk body mostly repeat their keys
// in one order (a shipper writes its events with one encoder), so a
// Decoder remembers, for each object of the schema, the child its last
// document began with, and for each child the child that followed it.
// Reading a member, the decoder first compares the input with the guessed
// key and its colon, `"name":`, in one comparison (scanner.keyIs); only a
// key that is not the guessed one is read as a string and looked up in
// the tree. A guess decides nothing: the input has exactly the bytes that
// reading would give the guessed key, so what is decoded, and every
// error, is the same with any guesses or none (TestPropertyGuessedKeys).
//
// A guesses table holds two entries per node of the tree: at firstGuess
// of an object, the child its members probably begin with; at nextGuess
// of a node, the sibling that probably follows it. Entries are nodes of
// the tree, never document memory. A decoder without a table (DecodeWith,
// which decodes one document) guesses nothing.
type guesses []*node

// newGuesses returns an empty table for the schema's tree.
func newGuesses() guesses { return make(guesses, 2*tree.nodes) }

// firstGuess is the entry of the first member of object n.
func firstGuess(n *node) int { return 2 * n.idx }

// nextGuess is the entry of the member after c.
func nextGuess(c *node) int { return 2*c.idx + 1 }

// guessAt returns the guess at entry at, nil when there is none.
func (d *decoder) guessAt(at int) *node {
	if at < len(d.guesses) {
		return d.guesses[at]
	}
	return nil
}

// learn makes c, the member just read, the guess at entry at.
func (d *decoder) learn(at int, c *node) {
	if at < len(d.guesses) && d.guesses[at] != c {
		d.guesses[at] = c
	}
}
