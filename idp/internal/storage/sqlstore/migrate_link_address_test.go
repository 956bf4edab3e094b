package sqlstore_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestMigrateLinkAddress: migration 00005 binds the links open before it
// to their user's email, turns an email change's data into the address it
// was requested from, and voids the links sent before the user's record
// last changed (they may have gone to an address the user no longer has).
func TestMigrateLinkAddress(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": testenv.SQLitePath, "postgres": testenv.PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s, err := sqlstore.Open(ctx, dsn(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.MigrateUpTo(ctx, 3); err != nil {
				t.Fatal(err)
			}
			// Rows as the schema of version 3 holds them.
			updated := time.Now().UTC().Truncate(time.Second)
			err = s.Exec(ctx, `INSERT INTO users (id, type, given_name, family_name, email, email_key,
				email_verified, phone, status, password_hash, job_title, department, discipline, name_key,
				created_at, updated_at, version)
				VALUES ('u1', 'employee', 'Ann', 'Lee', 'ann@example.org', 'ann@example.org', false, NULL, 'invited', '', '', '', '', 'ann lee', $1, $2, 2)`,
				updated.Add(-2*time.Hour), updated)
			if err != nil {
				t.Fatal(err)
			}
			u := storage.User{ID: "u1"}
			before, after := updated.Add(-time.Hour), updated.Add(time.Minute)
			for _, tok := range []struct {
				hash, purpose, data string
				created             time.Time
			}{
				{"invite-after", storage.PurposeInvitation, "", after},
				{"change-after", storage.PurposeEmailChange, "ann.new@example.org", after},
				{"reset-before", storage.PurposePasswordReset, "", before},
			} {
				err := s.Exec(ctx, `INSERT INTO one_time_tokens (hash, user_id, purpose, data, created_at, expires_at)
					VALUES ($1, $2, $3, $4, $5, $6)`, tok.hash, u.ID, tok.purpose, tok.data, tok.created.UTC(), tok.created.Add(24*time.Hour).UTC())
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for hash, want := range map[string]struct {
				sentTo, data string
				voided       bool
			}{
				"invite-after": {"ann@example.org", "", false},
				"change-after": {"ann.new@example.org", "ann@example.org", false},
				"reset-before": {"ann@example.org", "", true},
			} {
				got, err := s.GetOneTimeToken(ctx, hash)
				if err != nil {
					t.Fatal(err)
				}
				if got.SentTo != want.sentTo || got.Data != want.data || got.VoidedAt.IsZero() != !want.voided {
					t.Errorf("%s after the migration: %+v, want %+v", hash, got, want)
				}
			}
		})
	}
}
