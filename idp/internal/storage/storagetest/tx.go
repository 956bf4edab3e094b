package storagetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// lifecycleWrites does in tx what an invitation does: a user, a link
// token, the email carrying it and the audit entry. It returns the user.
func lifecycleWrites(t *testing.T, tx storage.Storage, email string) (storage.User, error) {
	ctx := t.Context()
	u, err := tx.CreateUser(ctx, employee("In", "Vited", email))
	if err != nil {
		return u, err
	}
	if err := tx.CreateOneTimeToken(ctx, oneTimeToken("tok-"+email, u, storage.PurposeInvitation, base)); err != nil {
		return u, err
	}
	if _, err := tx.EnqueueMessage(ctx, storage.Message{Channel: "email", To: email, Body: []byte("sealed"), CreatedAt: base}); err != nil {
		return u, err
	}
	err = tx.AppendAudit(ctx, storage.AuditEntry{At: base, ActorID: "admin", Action: "employee.create",
		TargetType: "user", TargetID: u.ID, Changes: map[string][2]any{"email": {nil, email}}})
	return u, err
}

// wantLifecycleWrites checks whether lifecycleWrites(email) is visible.
func wantLifecycleWrites(t *testing.T, s storage.Storage, email string, visible bool) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetUserByEmail(ctx, email)
	if visible {
		must(t, err)
	} else {
		wantErr(t, "user", err, storage.ErrNotFound)
	}
	_, err = s.GetOneTimeToken(ctx, "tok-"+email)
	if visible {
		must(t, err)
	} else {
		wantErr(t, "one-time token", err, storage.ErrNotFound)
	}
	want := 0
	if visible {
		want = 1
	}
	n := 0
	for _, m := range listMessages(t, s, storage.MessageQuery{}) {
		if m.To == email {
			n++
		}
	}
	equal(t, "messages to "+email, n, want)
	n = 0
	entries, _ := listAudit(t, s, storage.AuditQuery{Action: "employee.create"})
	for _, e := range entries {
		if e.Changes["email"][1] == email {
			n++
		}
	}
	equal(t, "audit entries creating "+email, n, want)
}

func testTxCommits(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createClient(t, s, "sched")
	err := s.InTx(ctx, func(tx storage.Storage) error {
		u, err := lifecycleWrites(t, tx, "ann@example.org")
		if err != nil {
			return err
		}
		// The transaction reads its own writes; others do not see them yet.
		got, err := tx.GetUserByEmail(ctx, "ann@example.org")
		if err != nil || got.ID != u.ID {
			t.Errorf("GetUserByEmail inside the transaction: %v, %v", got.ID, err)
		}
		if _, err := s.GetUserByEmail(ctx, "ann@example.org"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetUserByEmail outside the open transaction: %v, want ErrNotFound", err)
		}
		// Read-modify-write methods work inside a transaction too.
		if _, err := tx.UpdateUser(ctx, u.ID, u.Version, func(x *storage.User) error { x.JobTitle = "Nurse"; return nil }); err != nil {
			return err
		}
		_, err = tx.UpdateClient(ctx, "sched", func(c *storage.Client) error { c.Name = "Scheduling 2"; return nil })
		return err
	})
	must(t, err)
	wantLifecycleWrites(t, s, "ann@example.org", true)
	u, err := s.GetUserByEmail(ctx, "ann@example.org")
	must(t, err)
	equal(t, "updated in the transaction: job title", u.JobTitle, "Nurse")
	equal(t, "updated in the transaction: version", u.Version, int64(2))
	c, err := s.GetClient(ctx, "sched")
	must(t, err)
	equal(t, "client updated in the transaction", c.Name, "Scheduling 2")
}

// testTxRollsBack: when fn fails, InTx returns its error as is and nothing
// fn wrote is kept, nested InTx included.
func testTxRollsBack(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx storage.Storage) error {
		if _, err := lifecycleWrites(t, tx, "ann@example.org"); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("InTx returned %v, want fn's error as is", err)
	}
	wantLifecycleWrites(t, s, "ann@example.org", false)

	// A nested InTx joins the outer transaction: its writes go with it.
	err = s.InTx(ctx, func(tx storage.Storage) error {
		if err := tx.InTx(ctx, func(inner storage.Storage) error {
			_, err := lifecycleWrites(t, inner, "bo@example.org")
			return err
		}); err != nil {
			return err
		}
		if _, err := tx.GetUserByEmail(ctx, "bo@example.org"); err != nil {
			t.Errorf("outer transaction does not see the nested one's write: %v", err)
		}
		return boom
	})
	wantErr(t, "InTx around a nested InTx", err, boom)
	wantLifecycleWrites(t, s, "bo@example.org", false)

	// A store call that fails (here: a taken email) fails the transaction.
	createUser(t, s, employee("Cy", "Ng", "cy@example.org"))
	err = s.InTx(ctx, func(tx storage.Storage) error {
		if err := tx.AppendAudit(ctx, storage.AuditEntry{Action: "doomed"}); err != nil {
			return err
		}
		_, err := tx.CreateUser(ctx, employee("Cy", "Again", "CY@example.org"))
		return err
	})
	wantErr(t, "InTx with a taken email", err, storage.ErrEmailInUse)
	entries, _ := listAudit(t, s, storage.AuditQuery{Action: "doomed"})
	equal(t, "audit entries of the failed transaction", len(entries), 0)
}

// testTxConcurrent: read-modify-write transactions from many callers lose
// nothing.
func testTxConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := employee("Ann", "Lee", "ann@example.org")
	in.JobTitle = "0"
	u := createUser(t, s, in)
	errs := race(concurrency, func(i int) error {
		return s.InTx(ctx, func(tx storage.Storage) error {
			got, err := tx.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error {
				n, err := strconv.Atoi(x.JobTitle)
				x.JobTitle = strconv.Itoa(n + 1)
				return err
			})
			if err != nil {
				return err
			}
			return tx.AppendAudit(ctx, storage.AuditEntry{Action: "user.update", TargetType: "user", TargetID: u.ID,
				Changes: map[string][2]any{"version": {strconv.FormatInt(got.Version-1, 10), strconv.FormatInt(got.Version, 10)}}})
		})
	})
	equal(t, "transactions committed", winners(t, errs, nil), concurrency)
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "version", got.Version, int64(1+concurrency))
	equal(t, "counter", got.JobTitle, strconv.Itoa(concurrency))
	entries, _ := listAudit(t, s, storage.AuditQuery{TargetID: u.ID})
	equal(t, "audit entries", len(entries), concurrency)
	seen := map[any]bool{}
	for _, e := range entries {
		seen[e.Changes["version"][1]] = true
	}
	equal(t, "distinct versions audited", len(seen), concurrency)
}

// testTxReuseStaysRevoked: a reused refresh token or code revokes its
// family even when the transaction it was presented in rolls back, as it
// does when fn returns the ErrReused it got.
func testTxReuseStaysRevoked(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt1", "famR", base.Add(24*time.Hour))))
	t1 := base.Add(time.Minute)
	must(t, s.RotateRefreshToken(ctx, "rt1", f.refresh("rt2", "famR", base.Add(24*time.Hour)), f.accessFor("rt2"), t1, 0))
	t2 := t1.Add(time.Minute)
	err := s.InTx(ctx, func(tx storage.Storage) error {
		return tx.RotateRefreshToken(ctx, "rt1", f.refresh("rt3", "famR", base.Add(24*time.Hour)), f.accessFor("rt3"), t2, 0)
	})
	wantErr(t, "rotating a rotated token in a transaction", err, storage.ErrReused)
	rt2, err := s.GetRefreshToken(ctx, "rt2")
	must(t, err)
	equal(t, "successor RevokedAt after the rolled-back reuse", rt2.RevokedAt, t2)

	completedWithCode(t, s, f, "req1", "code1")
	now := wallClock()
	_, err = s.RedeemCode(ctx, "code1", "famC", now)
	must(t, err)
	must(t, s.CreateAccessToken(ctx, f.access("atC", "famC", base.Add(time.Hour))))
	later := now.Add(time.Second)
	err = s.InTx(ctx, func(tx storage.Storage) error {
		_, err := tx.RedeemCode(ctx, "code1", "famX", later)
		return err
	})
	wantErr(t, "redeeming a redeemed code in a transaction", err, storage.ErrReused)
	at, err := s.GetAccessToken(ctx, "atC")
	must(t, err)
	equal(t, "access token RevokedAt after the rolled-back reuse", at.RevokedAt, later)
}
