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

// An administrator's invitation or reset: one transaction with one audit
// entry by the administrator, no throttle, no timing floor; a refusal by
// the caller's allow leaves no link, no email and no entry.
func TestSendByAdministrator(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.ResetFloor = time.Hour // would show if these waited
		ctx := context.Background()
		admin := account.Actor{ID: "admin-1", Source: "192.0.2.7"}
		auditOf := func(userID string) []storage.AuditEntry {
			t.Helper()
			es, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: userID, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}

		inv, err := f.svc.Invite(ctx, account.NewUser{Email: "tx-inv@example.com", GivenName: "Ina", FamilyName: "Vit", Type: storage.UserTypeEmployee})
		if err != nil {
			t.Fatal(err)
		}
		first := f.lastToken(inv.Email, account.InvitePath)
		nAudit, nMail, nQueued := len(auditOf(inv.ID)), len(f.mail()), f.queued.Load()
		if err := f.svc.SendInvitation(ctx, inv.ID, admin, "employee.invitation", nil); err != nil {
			t.Fatalf("SendInvitation: %v", err)
		}
		es := auditOf(inv.ID)
		if len(es) != nAudit+1 || es[0].ActorID != admin.ID || es[0].SourceAddr != admin.Source || es[0].Action != "employee.invitation" {
			t.Fatalf("audit: %+v", es)
		}
		if n := len(f.mail()); n != nMail+1 {
			t.Fatalf("SendInvitation queued %d emails", n-nMail)
		}
		if f.queued.Load() != nQueued+1 {
			t.Fatal("Queued not called after the commit")
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, first); !errors.Is(err, account.ErrLinkReplaced) {
			t.Fatalf("earlier invitation link: %v", err)
		}
		last := f.lastToken(inv.Email, account.InvitePath)
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, last); err != nil {
			t.Fatalf("new invitation link: %v", err)
		}
		// Refused by the caller: nothing written.
		refused := errors.New("refused")
		if err := f.svc.SendInvitation(ctx, inv.ID, admin, "employee.invitation", func(storage.User) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("refused: %v", err)
		}
		if len(f.mail()) != nMail+1 || len(auditOf(inv.ID)) != nAudit+1 {
			t.Fatal("a refused invitation wrote something")
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, last); err != nil {
			t.Fatalf("a refused invitation voided the link: %v", err)
		}

		// Password reset: more than the anonymous per-address limit, none
		// of them counted or slowed down.
		act := f.active("tx-reset@example.com")
		nMail = len(f.mail())
		start := time.Now()
		for i := range 8 {
			if err := f.svc.SendPasswordReset(ctx, act.ID, admin, "employee.password_reset", nil); err != nil {
				t.Fatalf("SendPasswordReset %d: %v", i+1, err)
			}
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("SendPasswordReset took %v", d)
		}
		if n := len(auditOf(act.ID)); n != 8+1 { // and the creation
			t.Fatalf("%d audit entries, want 8 and the creation", n)
		}
		if n := len(f.mail()); n != nMail+8 {
			t.Fatalf("SendPasswordReset queued %d emails, want 8", n-nMail)
		}
		if th, err := st.GetThrottle(ctx, "reset:"+act.Email); err != nil || th.Failures != 0 {
			t.Fatalf("SendPasswordReset counted against the address limit: %+v %v", th, err)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, f.lastToken(act.Email, account.ResetPath)); err != nil {
			t.Fatalf("reset link: %v", err)
		}

		// Wrong states; unknown users.
		if err := f.svc.SendInvitation(ctx, act.ID, admin, "x", nil); !errors.Is(err, account.ErrNotInvited) {
			t.Fatalf("invitation to an active user: %v", err)
		}
		if err := f.svc.SendPasswordReset(ctx, inv.ID, admin, "x", nil); !errors.Is(err, account.ErrNotActive) {
			t.Fatalf("reset for an invited user: %v", err)
		}
		if err := f.svc.SendPasswordReset(ctx, "nobody", admin, "x", nil); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("reset for nobody: %v", err)
		}
	})
}
