package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

const attackerAddr = "mallory@evil.example"

// grants gives u a session and a refresh token, and reports whether they
// are still live.
func (f *fixture) grants(u storage.User) (live func() bool) {
	f.t.Helper()
	return grantsOf(f.t, f.st, f.clock, u)
}

// grantsOf gives u a session and a refresh token in st, and reports
// whether they are still live (both or neither, or the test fails).
func grantsOf(t *testing.T, st storage.Storage, clock *testenv.Clock, u storage.User) (live func() bool) {
	t.Helper()
	ctx := context.Background()
	now := clock.Now()
	sid, rid := "s-"+u.ID, "rt-"+u.ID
	if _, err := st.CreateClient(ctx, storage.Client{ID: "c", Name: "Module", Public: true,
		RedirectURIs: []string{"https://module.example/cb"}, GrantTypes: []string{storage.GrantAuthorizationCode}}); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, storage.Session{IDHash: sid, UserID: u.ID, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRefreshToken(ctx, storage.RefreshToken{IDHash: rid, FamilyID: "fam-" + u.ID, ClientID: "c", UserID: u.ID,
		Scopes: []string{"openid"}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		_, serr := st.GetSession(ctx, sid, clock.Now())
		rt, err := st.GetRefreshToken(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if (serr == nil) != rt.RevokedAt.IsZero() {
			t.Fatalf("session live %v, refresh token live %v", serr == nil, rt.RevokedAt.IsZero())
		}
		return serr == nil
	}
}

// auditOf returns the audit entries about userID with action, newest first.
func (f *fixture) auditOf(userID, action string) []storage.AuditEntry {
	f.t.Helper()
	es, _, err := f.st.ListAudit(context.Background(), storage.AuditQuery{TargetID: userID, Action: action, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// TestRevokingGrantsVoidsLinks: whatever revokes a user's grants voids
// every open link of theirs, in the same transaction. Before, an email
// change asked for by a phisher who had the password outlived the
// victim's reset and took the account over.
func TestRevokingGrantsVoidsLinks(t *testing.T) {
	cases := []struct {
		name   string
		revoke func(f *fixture, u storage.User) error
	}{
		{"password reset", func(f *fixture, u storage.User) error {
			if err := f.svc.RequestPasswordReset(context.Background(), u.Email, ""); err != nil {
				return err
			}
			_, err := f.svc.ResetPassword(context.Background(), f.lastToken(u.Email, account.ResetPath), otherPW, "")
			return err
		}},
		{"password change", func(f *fixture, u storage.User) error {
			_, err := f.svc.ChangePassword(context.Background(), account.Actor{ID: u.ID}, firstPW, otherPW)
			return err
		}},
		{"sign out everywhere", func(f *fixture, u storage.User) error {
			return f.svc.SignOutEverywhere(context.Background(), account.Actor{ID: u.ID})
		}},
		{"disable", func(f *fixture, u storage.User) error {
			_, err := f.svc.DisableUser(context.Background(), u.ID, account.Actor{})
			return err
		}},
		{"email change by an admin", func(f *fixture, u storage.User) error {
			_, err := f.svc.EditUser(context.Background(), u.ID, account.Edit{Action: "employee.update", Apply: func(x *storage.User) error {
				x.Email = "nia.other@example.com"
				return nil
			}})
			return err
		}},
		{"email change confirmed by the user", func(f *fixture, u storage.User) error {
			// A second user of the same account asks for another address
			// and confirms it: the phisher's link is replaced anyway; the
			// reset link below must die with the change.
			if err := f.svc.RequestEmailChange(context.Background(), account.Actor{ID: u.ID}, firstPW, "nia.moved@example.com"); err != nil {
				return err
			}
			_, err := f.svc.ConfirmEmailChange(context.Background(), f.lastToken("nia.moved@example.com", account.EmailConfirmPath), "")
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
				f := newFixture(t, st)
				ctx := context.Background()
				u := f.active("nia@example.com")
				live := f.grants(u)
				// The phisher, with the password, asks to move the login
				// email to his address.
				if err := f.svc.RequestEmailChange(ctx, account.Actor{ID: u.ID, Source: "203.0.113.66"}, firstPW, attackerAddr); err != nil {
					t.Fatal(err)
				}
				phished := f.lastToken(attackerAddr, account.EmailConfirmPath)
				// An admin had sent a reset as well.
				if err := f.svc.SendPasswordReset(ctx, u.ID, account.Actor{ID: "admin"}, "employee.password_reset", nil); err != nil {
					t.Fatal(err)
				}
				reset := f.lastToken(u.Email, account.ResetPath)

				if err := tc.revoke(f, u); err != nil {
					t.Fatalf("revoke: %v", err)
				}
				if live() {
					t.Fatal("grants still live")
				}
				if _, err := f.svc.CheckLink(ctx, storage.PurposeEmailChange, phished); !errors.Is(err, account.ErrInvalidLink) {
					t.Fatalf("the phisher's email change link: %v", err)
				}
				if _, err := f.svc.ConfirmEmailChange(ctx, phished, ""); !errors.Is(err, account.ErrInvalidLink) {
					t.Fatalf("confirming the phisher's link: %v", err)
				}
				if got, _ := st.GetUser(ctx, u.ID); got.Email == attackerAddr {
					t.Fatal("the login email is the phisher's")
				}
				if tc.name != "password reset" { // that one used a newer reset link
					if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, reset); !errors.Is(err, account.ErrInvalidLink) {
						t.Fatalf("the reset link sent before: %v", err)
					}
				}
			})
		})
	}
}

// TestLinkBoundToAddress: an invitation or reset works only while the
// address it was mailed to is still the user's email, and an email change
// only while the user's email is the one it was requested from — even
// when the email changed by a path that voided nothing (here: the store,
// behind the account package's back). Nothing is verified for an address
// that received no link.
func TestLinkBoundToAddress(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		setEmail := func(id, email string) {
			t.Helper()
			if _, err := st.UpdateUser(ctx, id, 0, func(u *storage.User) error { u.Email = email; return nil }); err != nil {
				t.Fatal(err)
			}
		}

		// Invitation to a mistyped address.
		inv, err := f.svc.Invite(ctx, account.NewUser{Email: "hedy@exmaple.com", GivenName: "Hedy", FamilyName: "Lamarr", Type: storage.UserTypeEmployee})
		if err != nil {
			t.Fatal(err)
		}
		typoLink := f.lastToken("hedy@exmaple.com", account.InvitePath)
		setEmail(inv.ID, "hedy@example.com")
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, typoLink); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("invitation to the old address, checked: %v", err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, typoLink, otherPW, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("invitation to the old address, accepted: %v", err)
		}
		if err := f.svc.ResendExpiredInvitation(ctx, typoLink, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("resend from a link to the old address: %v", err)
		}
		if got, _ := st.GetUser(ctx, inv.ID); got.EmailVerified || got.Status != storage.StatusInvited || got.PasswordHash != "" {
			t.Fatalf("after the link to the old address: %+v", got)
		}
		// Bound to exactly that address: back to it, the link works.
		setEmail(inv.ID, "hedy@exmaple.com")
		if _, err := f.svc.CheckLink(ctx, storage.PurposeInvitation, typoLink); err != nil {
			t.Fatalf("invitation back at its address: %v", err)
		}

		// Reset link.
		u := f.active("nia@example.com")
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		reset := f.lastToken(u.Email, account.ResetPath)
		setEmail(u.ID, "nia.new@example.com")
		if _, err := f.svc.ResetPassword(ctx, reset, otherPW, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("reset link to the old address: %v", err)
		}
		if got, _ := st.GetUser(ctx, u.ID); got.PasswordHash != u.PasswordHash {
			t.Fatal("a reset link to the old address set the password")
		}

		// Email change: requested from nia.new@; the email moves on.
		if err := f.svc.RequestEmailChange(ctx, account.Actor{ID: u.ID}, firstPW, "nia.third@example.com"); err != nil {
			t.Fatal(err)
		}
		change := f.lastToken("nia.third@example.com", account.EmailConfirmPath)
		setEmail(u.ID, "nia.fourth@example.com")
		if _, err := f.svc.ConfirmEmailChange(ctx, change, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("email change requested from another address: %v", err)
		}
		if got, _ := st.GetUser(ctx, u.ID); got.Email != "nia.fourth@example.com" {
			t.Fatalf("email now %s", got.Email)
		}
	})
}

// failingStore is a real store whose method named fail errs, also inside
// transactions.
type failingStore struct {
	storage.Storage
	fail string
}

var errInjected = errors.New("injected failure")

func (s *failingStore) InTx(ctx context.Context, fn func(tx storage.Storage) error) error {
	return s.Storage.InTx(ctx, func(tx storage.Storage) error {
		return fn(&failingStore{Storage: tx, fail: s.fail})
	})
}

func (s *failingStore) RevokeUserGrants(ctx context.Context, userID string, now time.Time) error {
	if s.fail == "RevokeUserGrants" {
		return errInjected
	}
	return s.Storage.RevokeUserGrants(ctx, userID, now)
}

func (s *failingStore) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	if s.fail == "AppendAudit" {
		return errInjected
	}
	return s.Storage.AppendAudit(ctx, e)
}

// TestDisableUserOneTransaction: disabling, revoking the grants, voiding
// the links and the audit entry commit together or not at all. Before,
// the user was disabled in one transaction and the grants revoked in
// another, with no audit entry.
func TestDisableUserOneTransaction(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		live := f.grants(u)
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		link := f.lastToken(u.Email, account.ResetPath)
		for _, method := range []string{"RevokeUserGrants", "AppendAudit"} {
			broken := *f.svc
			broken.Store = &failingStore{Storage: st, fail: method}
			if _, err := broken.DisableUser(ctx, u.ID, account.Actor{}); !errors.Is(err, errInjected) {
				t.Fatalf("%s failing: %v", method, err)
			}
			if got, _ := st.GetUser(ctx, u.ID); got.Status != storage.StatusActive || got.Version != u.Version {
				t.Fatalf("%s failing: the user was changed: %+v", method, got)
			}
			if !live() {
				t.Fatalf("%s failing: the grants were revoked", method)
			}
			if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, link); err != nil {
				t.Fatalf("%s failing: the link was voided: %v", method, err)
			}
		}
		by := account.Actor{ID: "operator", Source: "192.0.2.9"}
		d, err := f.svc.DisableUser(ctx, u.ID, by)
		if err != nil || d.Status != storage.StatusDisabled {
			t.Fatalf("disable: %+v %v", d, err)
		}
		if live() {
			t.Fatal("grants of a disabled user live")
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, link); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("link of a disabled user: %v", err)
		}
		es := f.auditOf(u.ID, "user.disable")
		if len(es) != 1 || es[0].ActorID != by.ID || es[0].SourceAddr != by.Source || es[0].Changes["status"][1] != "disabled" {
			t.Fatalf("audit: %+v", es)
		}
		// Again: nothing to do, nothing written.
		if _, err := f.svc.DisableUser(ctx, u.ID, by); err != nil || len(f.auditOf(u.ID, "user.disable")) != 1 {
			t.Fatalf("disable twice: %v", err)
		}
	})
}

// TestEditUserEmail: an administrator's change of the email unverifies
// it, revokes every grant, voids every link and tells the old address,
// with the audit entry, in one transaction; a Check that refuses undoes
// all of it.
func TestEditUserEmail(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		u, err := st.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error { x.EmailVerified = true; return nil })
		if err != nil {
			t.Fatal(err)
		}
		live := f.grants(u)
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		link := f.lastToken(u.Email, account.ResetPath)
		nMail := len(f.mail())
		by := account.Actor{ID: "manager", Source: "198.51.100.4"}
		setEmail := func(x *storage.User) error { x.Email = attackerAddr; return nil }

		refused := errors.New("refused")
		_, err = f.svc.EditUser(ctx, u.ID, account.Edit{By: by, Action: "employee.update", Apply: setEmail,
			Check: func(context.Context, storage.Storage, storage.User, storage.User) error { return refused }})
		if !errors.Is(err, refused) {
			t.Fatalf("refused by Check: %v", err)
		}
		if got, _ := st.GetUser(ctx, u.ID); got.Email != u.Email || !live() || len(f.mail()) != nMail {
			t.Fatalf("a refused change left traces: %+v", got)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, link); err != nil {
			t.Fatalf("a refused change voided the link: %v", err)
		}

		got, err := f.svc.EditUser(ctx, u.ID, account.Edit{By: by, Action: "employee.update", Apply: setEmail})
		if err != nil || got.Email != attackerAddr || got.EmailVerified {
			t.Fatalf("edit: %+v %v", got, err)
		}
		if live() {
			t.Fatal("sessions and tokens live after an admin changed the email")
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposePasswordReset, link); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("link to the old address: %v", err)
		}
		mail := f.mail()[nMail:]
		if len(mail) != 1 || mail[0].To != u.Email || !strings.Contains(mail[0].Text, attackerAddr) || strings.Contains(mail[0].Text, "token=") {
			t.Fatalf("notice: %+v", mail)
		}
		if want, _ := notify.Render(notify.KindEmailChanged, notify.Data{Name: u.Name(), NewEmail: attackerAddr}); mail[0].Subject != want.Subject {
			t.Fatalf("notice subject %q", mail[0].Subject)
		}
		es := f.auditOf(u.ID, "employee.update")
		if len(es) != 1 || es[0].ActorID != by.ID || es[0].SourceAddr != by.Source ||
			es[0].Changes["email"] != [2]any{u.Email, attackerAddr} || es[0].Changes["email_verified"] != [2]any{true, false} {
			t.Fatalf("audit: %+v", es)
		}

		// Other changes revoke nothing and mail nobody.
		v := f.active("vic@example.com")
		vlive := f.grants(v)
		nMail = len(f.mail())
		if _, err := f.svc.EditUser(ctx, v.ID, account.Edit{By: by, Action: "employee.update", Apply: func(x *storage.User) error {
			x.JobTitle, x.Roles = "Charge nurse", []storage.Role{storage.RoleAssigningManager}
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
		if !vlive() || len(f.mail()) != nMail {
			t.Fatal("a change of other fields revoked grants or sent mail")
		}
		// Nothing to change: nothing written.
		before, _ := st.GetUser(ctx, v.ID)
		same, err := f.svc.EditUser(ctx, v.ID, account.Edit{By: by, Action: "employee.update", Apply: func(*storage.User) error { return account.ErrUnchanged }})
		if err != nil || same.Version != before.Version || len(f.auditOf(v.ID, "employee.update")) != 1 {
			t.Fatalf("unchanged: %+v %v", same, err)
		}
	})
}

// TestSelfServiceAuditSource: the user's own changes are audited as theirs,
// with the address they came from.
func TestSelfServiceAuditSource(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		const src = "203.0.113.9"
		u := f.active("nia@example.com")
		me := account.Actor{ID: u.ID, Source: src}
		if _, err := f.svc.ChangePassword(ctx, me, firstPW, otherPW); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RequestEmailChange(ctx, me, otherPW, "nia.new@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, f.lastToken("nia.new@example.com", account.EmailConfirmPath), src); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SignOutEverywhere(ctx, me); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RequestPasswordReset(ctx, "nia.new@example.com", src); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResetPassword(ctx, f.lastToken("nia.new@example.com", account.ResetPath), firstPW, src); err != nil {
			t.Fatal(err)
		}
		inv, err := f.svc.Invite(ctx, account.NewUser{Email: "ivy@example.com", GivenName: "Ivy", FamilyName: "Chen", Type: storage.UserTypeEmployee})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, f.lastToken(inv.Email, account.InvitePath), otherPW, src); err != nil {
			t.Fatal(err)
		}
		for user, actions := range map[string][]string{
			u.ID:   {"user.password_change", "user.email_change_request", "user.email_change", "user.sign_out_everywhere", "user.password_reset"},
			inv.ID: {"user.invite_accept"},
		} {
			for _, action := range actions {
				es := f.auditOf(user, action)
				if len(es) != 1 || es[0].ActorID != user || es[0].SourceAddr != src {
					t.Errorf("%s: %+v", action, es)
				}
			}
		}
	})
}

// TestRequestEmailChangeSameAnswer: a taken address gets the same answer,
// the same notice to the current address and voids earlier links the
// same; its owner is told by email, and no link goes anywhere.
func TestRequestEmailChangeSameAnswer(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		owner := f.active("taken@example.com")
		me := account.Actor{ID: u.ID}
		if err := f.svc.RequestEmailChange(ctx, me, firstPW, "first@example.com"); err != nil {
			t.Fatal(err)
		}
		earlier := f.lastToken("first@example.com", account.EmailConfirmPath)
		n := len(f.mail())
		if err := f.svc.RequestEmailChange(ctx, me, firstPW, "TAKEN@example.com"); err != nil {
			t.Fatalf("taken address: %v", err)
		}
		mail := f.mail()[n:]
		if len(mail) != 2 || mail[1].To != u.Email || mail[0].To != "TAKEN@example.com" {
			t.Fatalf("emails: %+v", mail)
		}
		if tokenRE.MatchString(mail[0].Text) || !strings.Contains(mail[0].Text, "already belongs to your") ||
			!strings.Contains(mail[0].Text, owner.GivenName) || strings.Contains(mail[0].Text, u.Email) {
			t.Fatalf("email to the taken address:\n%s", mail[0].Text)
		}
		if _, err := f.svc.CheckLink(ctx, storage.PurposeEmailChange, earlier); !errors.Is(err, account.ErrLinkReplaced) {
			t.Fatalf("earlier link after a request for a taken address: %v", err)
		}
		if got, _ := st.GetUser(ctx, u.ID); got.Email != u.Email {
			t.Fatal("email changed")
		}
	})
}
