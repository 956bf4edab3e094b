package ui

import "context"

// pageSize is how many rows one request fetches.
const pageSize = 100

// pager holds a list that is fetched page by page as the user scrolls
// (cursor pagination): a table over 100,000 users keeps only what was
// scrolled to, and never waits for the rest.
type pager[T any] struct {
	u     *UI
	fetch func(ctx context.Context, cursor string) ([]T, string, error)

	items   []T
	next    string // cursor of the next page
	more    bool   // a next page exists
	loading bool
	gen     int // bumped by reset; results of older queries are dropped

	onChange func()             // rows changed (refresh the table)
	onState  func(string, bool) // loading / error text, whether an error
}

// reset starts over with a new query.
func (p *pager[T]) reset(fetch func(ctx context.Context, cursor string) ([]T, string, error)) {
	p.gen++
	p.fetch = fetch
	p.items, p.next, p.more, p.loading = nil, "", true, false
	p.changed()
	p.loadMore()
}

// near is called with a row the table is drawing; close to the end of what
// is loaded, the next page is fetched.
func (p *pager[T]) near(row int) {
	if row >= len(p.items)-pageSize/4 {
		p.loadMore()
	}
}

func (p *pager[T]) loadMore() {
	if p.loading || !p.more || p.fetch == nil {
		return
	}
	p.loading = true
	gen, cursor, fetch := p.gen, p.next, p.fetch
	p.state("Loading…", false)
	type page struct {
		items []T
		next  string
	}
	run(p.u, func(ctx context.Context) (page, error) {
		items, next, err := fetch(ctx, cursor)
		return page{items, next}, err
	}, func(pg page, err error) {
		if gen != p.gen {
			return
		}
		p.loading = false
		if err != nil {
			p.state(p.u.message(err), true)
			return
		}
		p.items = append(p.items, pg.items...)
		p.next, p.more = pg.next, pg.next != ""
		p.state("", false)
		p.changed()
	})
}

// busy reports whether a page is being fetched.
func (p *pager[T]) busy() bool { return p.loading }

func (p *pager[T]) changed() {
	if p.onChange != nil {
		p.onChange()
	}
}

func (p *pager[T]) state(msg string, isErr bool) {
	if p.onState != nil {
		p.onState(msg, isErr)
	}
}

// replace swaps the item matching match for v (after an edit).
func (p *pager[T]) replace(match func(T) bool, v T) {
	for i := range p.items {
		if match(p.items[i]) {
			p.items[i] = v
			p.changed()
			return
		}
	}
}
