package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Store is the one storage.Storage implementation, for both dialects.
type Store struct {
	db *sql.DB
	// q runs every query: db, or in a copy bound by InTx its transaction.
	q querier
	// tx is the InTx transaction this copy is bound to; nil outside one.
	// Inside one the store's helpers join it and leave retries to InTx.
	tx  *txScope
	d   dialect
	log *slog.Logger
	// name is the database as messages show it: a URL with its password
	// redacted, or the SQLite file path.
	name string
	// path is the SQLite database file; "" for PostgreSQL. The migration
	// lock file sits next to it.
	path string
	// wait bounds how long one call waits for the database (see
	// DefaultWait).
	wait time.Duration
	// now is the clock for the timestamps the store sets itself (CreatedAt,
	// UpdatedAt) and for expiry checks of methods that take no now.
	now func() time.Time
	// errs is told every failed statement (ObserveErrors).
	errs *errHook
	// sentHook is told every statement sent (ObserveStatements).
	sentHook *sentHook
	// stmts prepares the pool's statements on SQLite; nil on PostgreSQL.
	stmts *stmtCache
}

var _ storage.Storage = (*Store)(nil)

// pingTimeout bounds how long Open waits for the database to answer.
const pingTimeout = 5 * time.Second

// sqliteParams configures every SQLite connection (after busy_timeout, see
// sqliteDSN): WAL so readers never block the writer,
// enforced foreign keys, times as integer microseconds read back as
// time.Time from TIMESTAMP columns, and BEGIN IMMEDIATE so a transaction
// takes the write lock up front rather than failing on upgrade.
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)&_time_integer_format=unix_micro&_inttotime=1&_txlock=immediate"

// Open connects to the database dsn names: a postgres:// or postgresql://
// URL, or else an SQLite file path, optionally prefixed "sqlite:" (its
// directory is created). Open pings the database and fails with a one-line
// error naming it (password redacted) when it does not answer. It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string, logger *slog.Logger, opts ...Option) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{log: logger, wait: DefaultWait, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, errs: &errHook{}, sentHook: &sentHook{}}
	for _, o := range opts {
		o(s)
	}
	var driverDSN, secret string
	if isPostgresURL(dsn) {
		name, password, err := redactURL(dsn)
		if err != nil {
			return nil, err
		}
		s.d, s.name, secret, driverDSN = dialectPostgres, name, password, withConnectTimeout(dsn, s.wait)
	} else {
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		s.d, s.name, s.path, driverDSN = dialectSQLite, path, path, sqliteDSN(path, s.wait)
		if err := createSQLiteFile(path); err != nil {
			return nil, &unreachableError{db: s.name, err: err}
		}
	}
	db, err := sql.Open(s.d.driver, driverDSN)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", s.name, err)
	}
	db.SetMaxOpenConns(s.d.maxOpen)
	db.SetMaxIdleConns(s.d.maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, &unreachableError{db: s.name, secret: secret, err: err}
	}
	s.db, s.q = db, s.bound(db)
	if s.d.name == dialectSQLite.name {
		s.stmts = newStmtCache(db)
		s.q = s.bound(s.stmts)
	}
	logger.Info("database opened", "dialect", s.d.name, "database", s.name)
	return s, nil
}

// Close releases the connection pool. The store InTx hands to its fn cannot
// close it.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("sqlstore: Close called inside InTx")
	}
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

func isPostgresURL(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// redactURL returns dsn as it may be shown, and the password it must not
// show anywhere else either.
func redactURL(dsn string) (shown, password string, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Parse's error repeats the URL, password and all.
		return "", "", errors.New("sqlstore: the database URL does not parse (not shown: it may hold a password)")
	}
	password, _ = u.User.Password()
	if q := u.Query(); q.Has("password") {
		password = q.Get("password")
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted(), password, nil
}

// sqlitePath turns the configured value into an absolute file path.
func sqlitePath(dsn string) (string, error) {
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("sqlstore: database %q: want a postgres:// URL or an SQLite file path", dsn)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlstore: database %q: %w", dsn, err)
	}
	return abs, nil
}

// sqliteDSN builds the driver's URI for path, escaping what a URI would
// otherwise read as query or fragment. A connection waits up to wait for
// the write lock (busy_timeout) instead of failing at once.
func sqliteDSN(path string, wait time.Duration) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:/C:/…
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?_pragma=busy_timeout(" +
		strconv.FormatInt(wait.Milliseconds(), 10) + ")&" + sqliteParams
}

// withConnectTimeout adds connect_timeout (whole seconds, at least 1) to a
// PostgreSQL URL that does not set one: without it a connection attempt to
// an unreachable host waits for the operating system's TCP timeout, minutes
// during which the pool's slot is taken.
func withConnectTimeout(dsn string, wait time.Duration) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // Open has already reported it
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return dsn
	}
	q.Set("connect_timeout", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
	u.RawQuery = q.Encode()
	return u.String()
}

// createSQLiteFile makes the directory and an empty database file readable
// by the owner only, before SQLite would create it world-readable; SQLite
// gives its WAL and shared-memory files the same mode.
func createSQLiteFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// unreachableError says, in one line, which database did not answer and why.
type unreachableError struct {
	db     string // redacted name
	secret string // the password, never to be shown
	err    error
}

func (e *unreachableError) Error() string {
	reason := e.err.Error()
	var op *net.OpError
	if errors.As(e.err, &op) {
		reason = op.Error() // "dial tcp 127.0.0.1:1: connect: connection refused"
	}
	reason = strings.ReplaceAll(reason, "\n", " ")
	if e.secret != "" {
		reason = strings.ReplaceAll(reason, e.secret, "xxxxx")
	}
	return "database " + e.db + " is unreachable: " + reason
}

func (e *unreachableError) Unwrap() error { return e.err }
