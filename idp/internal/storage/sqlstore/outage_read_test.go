package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestOutageAtMultiRowRead: when the database goes away under the store, a
// multi-row read (ListClients; every list and "load roles" read takes the
// same QueryContext path) fails with storage.ErrUnavailable, so that the
// request is answered 503 and the caller retries — not with a plain error
// that the token endpoint answers invalid_grant, costing the client its
// refresh token. The statement's error has to be classified before its
// context is cancelled: classified after, it reads as "the caller went
// away" and passes as a plain error (fixed in fc5dfbb; a PostgreSQL
// restart, 57P01 on a pooled connection, showed it).
func TestOutageAtMultiRowRead(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		// Both ways a read meets a server that ended the session: on a
		// pooled connection (57P01 on the connection, or, when the pool
		// checks it first, a new connection the server refuses), and on the
		// connection an open transaction holds (57P01, nothing to retry).
		t.Run("pooled connection", func(t *testing.T) {
			dsn := testenv.PostgresDSN(t)
			st, admin, name := pgStore(t, dsn)
			// The sessions end and no new one is let in, as while the
			// server restarts.
			refuseSessions(t, admin, name, true)
			t.Cleanup(func() { refuseSessions(t, admin, name, false) })
			endSessions(t, admin, name)
			_, err := st.ListClients(t.Context())
			wantUnavailable(t, err)

			refuseSessions(t, admin, name, false)
			if _, err := st.ListClients(t.Context()); err != nil {
				t.Fatalf("ListClients once the database is back: %v", err)
			}
		})
		t.Run("in a transaction", func(t *testing.T) {
			dsn := testenv.PostgresDSN(t)
			st, admin, name := pgStore(t, dsn)
			var readErr error
			attempts := 0
			err := st.InTx(t.Context(), func(tx storage.Storage) error {
				attempts++
				if attempts > 1 {
					t.Fatalf("InTx ran the transaction again after: %v", readErr)
				}
				if _, err := tx.ListClients(t.Context()); err != nil {
					return err
				}
				endSessions(t, admin, name)
				_, readErr = tx.ListClients(t.Context())
				return readErr
			})
			wantUnavailable(t, readErr)
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("InTx = %v; want storage.ErrUnavailable", err)
			}
			if _, err := st.ListClients(t.Context()); err != nil {
				t.Fatalf("ListClients on a new session: %v", err)
			}
		})
	})

	// SQLite has no server to end a session, and an open connection keeps
	// reading its file; what a read can meet is a connection that cannot be
	// opened: the file replaced under the process by something that is no
	// database.
	t.Run("sqlite", func(t *testing.T) {
		path := testenv.SQLitePath(t)
		st := testenv.OpenStore(t, path, nil)
		readClients(t, st)
		// Close the pooled connections (the last one checkpoints and
		// removes the WAL), so that the read has to open one.
		st.PoolForTest().SetMaxIdleConns(0)
		if err := os.Rename(path, path+".away"); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := st.ListClients(t.Context())
		wantUnavailable(t, err)

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".away", path); err != nil {
			t.Fatal(err)
		}
		readClients(t, st)
	})
}

// wantUnavailable fails t unless err is an outage.
func wantUnavailable(t *testing.T, err error) {
	t.Helper()
	t.Logf("ListClients: %v", err)
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ListClients with the database gone = %v; want storage.ErrUnavailable", err)
	}
}

// readClients stores a client if there is none and reads the list: a
// multi-row read that works.
func readClients(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	cs, err := st.ListClients(ctx)
	if err == nil && len(cs) == 0 {
		now := time.Now()
		if _, err = st.CreateClient(ctx, storage.Client{ID: "sched", Name: "Scheduling",
			RedirectURIs: []string{"https://sched.example.org/callback"}, GrantTypes: []string{storage.GrantAuthorizationCode},
			Public: true, CreatedAt: now, UpdatedAt: now}); err == nil {
			cs, err = st.ListClients(ctx)
		}
	}
	if err != nil || len(cs) != 1 {
		t.Fatalf("ListClients: %d clients, %v; want 1", len(cs), err)
	}
}

// pgStore opens the store at dsn (a fresh database) with a client in it,
// and a connection to the server's maintenance database from which the
// test ends the store's sessions; name is the store's database.
func pgStore(t *testing.T, dsn string) (st *sqlstore.Store, admin *sql.DB, name string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name = strings.TrimPrefix(u.Path, "/")
	st = testenv.OpenStore(t, dsn, nil)
	readClients(t, st)
	admin, err = sql.Open("pgx", testenv.PostgresServer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return st, admin, name
}

// endSessions terminates every client session on database name (the
// store's pooled connections: the test's own are on another database) and
// waits until their processes are gone. The server sends each 57P01
// (admin shutdown) and closes it, as it does when it shuts down.
func endSessions(t *testing.T, admin *sql.DB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, name)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(pids) == 0 {
		t.Fatalf("no session on %s to end: the store holds no connection", name)
	}
	for _, pid := range pids {
		var gone bool
		// Waits up to 20 s for the process to exit.
		if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1, 20000)`, pid).Scan(&gone); err != nil || !gone {
			t.Fatalf("terminate session %d: %v, %v", pid, gone, err)
		}
	}
}

// refuseSessions makes database name refuse new sessions (refuse) or
// accept them again.
func refuseSessions(t *testing.T, admin *sql.DB, name string, refuse bool) {
	t.Helper()
	allow := "true"
	if refuse {
		allow = "false"
	}
	// name is testenv's (letters, digits, underscore): safe to splice.
	if _, err := admin.ExecContext(context.Background(), `ALTER DATABASE `+name+` ALLOW_CONNECTIONS `+allow); err != nil {
		t.Fatalf("ALTER DATABASE %s ALLOW_CONNECTIONS %s: %v", name, allow, err)
	}
}
