package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds stmtCache: the store's statements are constants,
// save a few with IN lists of varying length, which past the bound run
// unprepared.
const maxCachedStmts = 256

// stmtCache runs the pool's statements (not a transaction's) as prepared
// statements, each prepared once per connection by database/sql. SQLite
// (modernc) otherwise parses every statement anew, which was about 15% of
// a browser sign-in's CPU. A connection with open rows is never handed to
// another statement, so one prepared statement is never stepped twice at
// once. PostgreSQL (pgx) caches statements itself and does not use this.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// stmt is query prepared, or nil when the cache is full. ctx is the
// statement's own, bounded ctx: preparing shares its deadline. Preparing
// is the first half of running a statement unprepared too, so its error
// is the one the statement would have failed with.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	// Prepared without the lock held: preparing waits for a connection.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		_ = st.Close()
		return prev, nil
	}
	if len(c.m) >= maxCachedStmts {
		_ = st.Close()
		return nil, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query unprepared when preparing fails, so the
// *sql.Row carries that error: it fails the same way.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := c.stmt(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// close closes the prepared statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}
