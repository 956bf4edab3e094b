package signin_test

import (
	"context"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// eachStore runs fn once against a fresh, migrated SQLite database and once
// against a fresh PostgreSQL database.
func eachStore(t *testing.T, fn func(t *testing.T, st storage.Storage)) {
	t.Helper()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var dsn string
			if backend == "sqlite" {
				dsn = testenv.SQLitePath(t)
			} else {
				dsn = testenv.PostgresDSN(t)
			}
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatalf("open %s: %v", backend, err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("migrate %s: %v", backend, err)
			}
			fn(t, st)
		})
	}
}

func createUser(t *testing.T, st storage.Storage, email string) storage.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Ada", FamilyName: "Lovelace",
		Email: email, EmailVerified: true, Status: storage.StatusActive,
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}
