package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the two databases. The queries
// themselves do not: they are shared.
type dialect struct {
	name   string        // "postgres" or "sqlite": also the migrations folder
	driver string        // database/sql driver name
	goose  goose.Dialect // how goose records applied versions
	// maxOpen caps the connection pool. SQLite in WAL mode serves readers
	// concurrently while writers queue on the file lock.
	maxOpen int
	// uniqueViolation reports whether err is a unique-key violation and
	// names the key: the constraint (PostgreSQL) or "table.column"
	// (SQLite). Callers match a column name in it, e.g. "email_key".
	uniqueViolation func(err error) (key string, ok bool)
	// foreignKeyViolation reports whether err is a foreign-key violation:
	// a row named a client or user that does not exist.
	foreignKeyViolation func(err error) bool
	// retryable reports whether the statement or transaction that failed
	// with err may simply be run again: a serialization failure or deadlock
	// (PostgreSQL), a busy or locked database (SQLite).
	retryable func(err error) bool
	// outage reports the dialect's own errors that mean the database is
	// unavailable (see Store.unavailable for the common ones).
	outage func(err error) bool
	// migrationLocker keeps two processes from migrating one database at
	// once; path is the SQLite file ("" for PostgreSQL).
	migrationLocker func(path string) (lock.SessionLocker, error)
	// lockRow ends a SELECT whose row the transaction must hold until it
	// ends (PostgreSQL row lock). SQLite has none and needs none: every
	// transaction begins IMMEDIATE, so writers run one at a time.
	lockRow string
	// lockSkipLocked ends a SELECT that takes a row no other transaction
	// holds, skipping held ones, so replicas claim different rows.
	lockSkipLocked string
	// rotateInOneStatement rotates a refresh token and stores its
	// successor and access token in one statement (rotateInOneStatementSQL),
	// "" when the database cannot: SQLite has no data-modifying WITH, and
	// rotates in a transaction (Store.RotateRefreshToken).
	rotateInOneStatement string
}

// PostgreSQL error codes (SQLSTATE).
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

var dialectPostgres = dialect{
	name:    "postgres",
	driver:  "pgx",
	goose:   goose.DialectPostgres,
	maxOpen: 16,
	uniqueViolation: func(err error) (string, bool) {
		if pe, ok := pgError(err); ok && pe.Code == pgUniqueViolation {
			return pe.ConstraintName, true
		}
		return "", false
	},
	foreignKeyViolation: func(err error) bool {
		pe, ok := pgError(err)
		return ok && pe.Code == pgForeignKeyViolation
	},
	retryable: func(err error) bool {
		pe, ok := pgError(err)
		return ok && (pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected)
	},
	outage: pgOutage,
	migrationLocker: func(string) (lock.SessionLocker, error) {
		// A session-level advisory lock. A replica waiting for another's
		// migrations polls every second, for up to ten minutes (goose's
		// default polls every 5 s).
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, fmt.Errorf("create advisory lock: %w", err)
		}
		return l, nil
	},
	// NO KEY: the row's key does not change, so inserts naming it (foreign
	// keys take KEY SHARE) need not wait.
	lockRow:              " FOR NO KEY UPDATE",
	lockSkipLocked:       " FOR UPDATE SKIP LOCKED",
	rotateInOneStatement: rotateInOneStatementSQL,
}

var dialectSQLite = dialect{
	name:    "sqlite",
	driver:  "sqlite",
	goose:   goose.DialectSQLite3,
	maxOpen: 8,
	uniqueViolation: func(err error) (string, bool) {
		code, msg, ok := sqliteError(err)
		if !ok || (code != sqlite3.SQLITE_CONSTRAINT_UNIQUE && code != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return "", false
		}
		// "… UNIQUE constraint failed: users.email_key (2067)", for
		// primary keys too.
		_, cols, _ := strings.Cut(msg, "UNIQUE constraint failed: ")
		return cols, true
	},
	foreignKeyViolation: func(err error) bool {
		code, _, ok := sqliteError(err)
		return ok && code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	},
	retryable: func(err error) bool {
		code, _, ok := sqliteError(err)
		// The primary code is the low byte: SQLITE_BUSY_SNAPSHOT and the
		// other extended codes count as well.
		return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
	},
	// BUSY and LOCKED count as well once retries are spent: the write lock
	// stayed taken beyond busy_timeout on every attempt.
	outage: sqliteOutage,
	migrationLocker: func(path string) (lock.SessionLocker, error) {
		return &fileLocker{path: path + ".migrate-lock"}, nil
	},
	// No row locks: BEGIN IMMEDIATE serializes writers (see dialect.lockRow).
	lockRow:              "",
	lockSkipLocked:       "",
	rotateInOneStatement: "",
}

func pgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	ok := errors.As(err, &pe)
	return pe, ok
}

func sqliteError(err error) (code int, msg string, ok bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, "", false
	}
	return se.Code(), se.Error(), true
}
