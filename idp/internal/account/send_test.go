package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// The …Tx building blocks issue the link and queue the email in the
// caller's transaction and nothing else: no audit entry, no throttle, no
// timing floor, no Queued hook.
func TestSendTxBuildingBlocks(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.ResetFloor = time.Hour // would show if the Tx variants waited
		ctx := context.Background()
		auditCount := func(userID string) int {
			t.Helper()
			es, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: userID, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			return len(es)
		}
		inTx := func(fn func(tx storage.Storage) error) error {
			return st.InTx(ctx, fn)
		}

		// Invitation.
		inv, err := f.svc.Invite(ctx, account.NewUser{Email: "tx-inv@example.com", GivenName: "Ina", FamilyName: "Vit", Type: storage.UserTypeEmployee})
		if err != nil {
			t.Fatal(err)
		}
		first := f.lastToken(inv.Email, account.InvitePath)
		nAudit, nMail, nQueued := auditCount(inv.ID), len(f.mail()), f.queued.Load()
		if err := inTx(func(tx storage.Storage) error { return f.svc.SendInvitationTx(ctx, tx, inv) }); err != nil {
			t.Fatalf("SendInvitationTx: %v", err)
		}
		if n := auditCount(inv.ID); n != nAudit {
			t.Fatalf("SendInvitationTx audited: %d -> %d entries", nAudit, n)
		}
		if n := len(f.mail()); n != nMail+1 {
			t.Fatalf("SendInvitationTx queued %d emails", n-nMail)
		}
		if f.queued.Load() != nQueued {
			t.Fatal("SendInvitationTx called the Queued hook; the caller does after commit")
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, first); !errors.Is(err, account.ErrLinkReplaced) {
			t.Fatalf("earlier invitation link: %v", err)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, f.lastToken(inv.Email, account.InvitePath)); err != nil {
			t.Fatalf("new invitation link: %v", err)
		}
		// A rolled-back transaction leaves neither link nor email.
		rollback := errors.New("rollback")
		last := f.lastToken(inv.Email, account.InvitePath)
		err = inTx(func(tx storage.Storage) error {
			if err := f.svc.SendInvitationTx(ctx, tx, inv); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) || len(f.mail()) != nMail+1 {
			t.Fatalf("rolled back: %v, %d emails", err, len(f.mail())-nMail)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, last); err != nil {
			t.Fatalf("a rolled-back invitation voided the link: %v", err)
		}

		// Password reset: more than the anonymous per-address limit, none
		// of them counted, audited or slowed down.
		act := f.active("tx-reset@example.com")
		nAudit, nMail = auditCount(act.ID), len(f.mail())
		start := time.Now()
		for i := range 8 {
			if err := inTx(func(tx storage.Storage) error { return f.svc.SendPasswordResetTx(ctx, tx, act) }); err != nil {
				t.Fatalf("SendPasswordResetTx %d: %v", i+1, err)
			}
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("SendPasswordResetTx took %v", d)
		}
		if n := auditCount(act.ID); n != nAudit {
			t.Fatalf("SendPasswordResetTx audited: %d -> %d entries", nAudit, n)
		}
		if n := len(f.mail()); n != nMail+8 {
			t.Fatalf("SendPasswordResetTx queued %d emails, want 8", n-nMail)
		}
		if th, err := st.GetThrottle(ctx, "reset:"+act.Email); err != nil || th.Failures != 0 {
			t.Fatalf("SendPasswordResetTx counted against the address limit: %+v %v", th, err)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, f.lastToken(act.Email, account.ResetPath)); err != nil {
			t.Fatalf("reset link: %v", err)
		}

		// Wrong states.
		if err := inTx(func(tx storage.Storage) error { return f.svc.SendInvitationTx(ctx, tx, act) }); !errors.Is(err, account.ErrNotInvited) {
			t.Fatalf("invitation to an active user: %v", err)
		}
		if err := inTx(func(tx storage.Storage) error { return f.svc.SendPasswordResetTx(ctx, tx, inv) }); !errors.Is(err, account.ErrNotActive) {
			t.Fatalf("reset for an invited user: %v", err)
		}

		// The public use case keeps its own audit entry.
		if err := f.svc.ResendInvitation(ctx, inv.ID); err != nil {
			t.Fatal(err)
		}
		es, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: inv.ID, Action: "user.invite_resend"})
		if err != nil || len(es) != 1 {
			t.Fatalf("ResendInvitation audit: %+v %v", es, err)
		}
	})
}
