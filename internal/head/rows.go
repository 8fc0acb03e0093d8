package head

// rowPageSize is how many rows one page of rowPages holds.
const rowPageSize = 4096

// rowPages holds a head's rows by row number in fixed-size pages, so that
// appending never copies the rows already held: a head holds millions, and
// copying rows (which point at their data) costs write barriers while the
// collector runs; growing one slice spent half of replay's insert time so.
//
// A rowPages value is a view of the first n rows. Pages are allocated
// whole and their slice headers never change, so a view taken under the
// head's lock stays valid while later rows are written past it.
type rowPages struct {
	pages [][]Item
	n     int
}

// len returns the number of rows in the view.
func (p *rowPages) len() int { return p.n }

// at returns row i, which must be below len.
func (p *rowPages) at(i int) *Item { return &p.pages[i/rowPageSize][i%rowPageSize] }

// append adds a row at the end.
func (p *rowPages) append(it Item) {
	if p.n == len(p.pages)*rowPageSize {
		p.pages = append(p.pages, make([]Item, rowPageSize))
	}
	*p.at(p.n) = it
	p.n++
}

// prefix returns a view of the first n rows (n <= len).
func (p *rowPages) prefix(n int) rowPages {
	k := (n + rowPageSize - 1) / rowPageSize
	return rowPages{pages: p.pages[:k:k], n: n}
}

// all yields the rows in row order.
func (p *rowPages) all(yield func(int, *Item) bool) {
	for i := range p.n {
		if !yield(i, p.at(i)) {
			return
		}
	}
}
