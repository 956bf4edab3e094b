package sqlstore

import "database/sql"

// PoolForTest is the store's connection pool, for the external tests that
// must close its idle connections so that the next statement opens one.
func (s *Store) PoolForTest() *sql.DB { return s.db }
