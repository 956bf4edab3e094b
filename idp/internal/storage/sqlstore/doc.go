// Package sqlstore implements storage.Storage once, over database/sql, for
// both supported databases: PostgreSQL (pgx) for production and several
// replicas, and SQLite (modernc.org/sqlite, no cgo) as the embedded default.
//
// Every query is written once: both drivers accept $1-style placeholders,
// lists are JSON arrays in text columns, times are timestamptz in PostgreSQL
// and integer microseconds in SQLite (declared TIMESTAMP, so the driver
// returns time.Time), and "not set" times are NULL. What does differ — driver
// name, connection string, how a unique violation or a retryable error
// looks, how migrations are locked — lives in the dialect struct.
//
// Concurrency: every state change is one atomic statement (UPDATE … WHERE …
// RETURNING, INSERT … ON CONFLICT) or a short transaction. Serialization
// failures and deadlocks (PostgreSQL) and SQLITE_BUSY (SQLite) are retried
// inside the store and reach the caller only as an outage (see below). In SQLite every transaction
// starts with BEGIN IMMEDIATE, so writers queue on busy_timeout instead of
// failing when a read snapshot goes stale; that is also why SQLite needs no
// row locks where PostgreSQL takes them (dialect.lockRow: one-time tokens
// lock their user, outbox claims skip rows other replicas hold).
//
// InTx hands its fn a shallow copy of the Store whose queries run on one
// *sql.Tx (Store.q) instead of the pool. Inside it the helpers (inTx, retry,
// exec) join that transaction and do not retry on their own: InTx retries
// the whole fn. Compare-and-swap loops (UpdateUser, UpdateClient) still
// re-read and retry, which works under PostgreSQL's READ COMMITTED.
//
// Outages: every statement runs through Store.bound, which gives it at most
// the store's wait (WithWait, DefaultWait) and turns the errors of a
// database that cannot be reached — refused, dropped or silent connections,
// a server shutting down or starting up, an SQLite file locked past
// busy_timeout, unreadable or full — into storage.ErrUnavailable (outage.go,
// the one classification), recorded on the request's storage.OutageWatch.
// Retries of busy and serialization errors stop once the wait has passed.
//
// Revoked token families are also recorded in revoked_families, and token
// reads and rotation consult it, so a token written concurrently with its
// family's revocation is dead all the same. The rows are kept (one small row
// per revoked family).
//
// Referential integrity is the database's: auth requests, tokens and
// sessions name an existing client and user (a missing one gives
// storage.ErrNotFound), and deleting a client deletes its requests and tokens.
//
// Open connects, Migrate applies the embedded migrations (module
// github.com/cliniconnects/identity/migrations), Ready reports whether the
// schema is current.
package sqlstore
