package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestNoLinkSecretInLogs runs invitation, reset and email change with the
// log at debug level and looks for every link token and password in it.
func TestNoLinkSecretInLogs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			var logs lockedBuffer
			e := newMailEnv(t, b, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			secrets := map[string]string{"new password": newPassword, "user password": userPassword}

			inv, err := e.accounts.Invite(context.Background(), account.NewUser{
				Email: "lou@example.com", GivenName: "Lou", FamilyName: "Reed", Type: storage.UserTypeEmployee,
			})
			if err != nil {
				t.Fatal(err)
			}
			link := e.mail.wait(inv.Email, "invited", 1).link(t, e.issuer, "/invite")
			secrets["invitation token"] = tokenOf(t, link)
			e.browser().get(t, flipChar(link))
			p := e.browser().form(t, "/invite", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
			mustContain(t, "accept", p, http.StatusOK, "Your account is ready")

			u := e.user(t)
			e.browser().form(t, "/forgot", url.Values{"email": {u.Email}})
			link = e.mail.wait(u.Email, "Reset", 1).link(t, e.issuer, "/reset")
			secrets["reset token"] = tokenOf(t, link)
			p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, link)}, "password": {"short"}, "confirm": {"short"}})
			mustContain(t, "weak", p, http.StatusBadRequest)
			p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
			mustContain(t, "reset", p, http.StatusOK, "Your password has been changed")
			e.browser().get(t, link) // used

			br := e.browser()
			if !e.signInDirect(t, br, u.Email, newPassword) {
				t.Fatal("sign-in failed")
			}
			br.form(t, "/account/email", url.Values{"email": {"lou.new@example.com"}, "current_password": {"a wrong current password"}})
			br.form(t, "/account/email", url.Values{"email": {"lou.new@example.com"}, "current_password": {newPassword}})
			link = e.mail.wait("lou.new@example.com", "", 1).link(t, e.issuer, "/account/email/confirm")
			secrets["email change token"] = tokenOf(t, link)
			e.browser().get(t, link)
			p = e.browser().form(t, "/account/email/confirm", url.Values{"token": {tokenOf(t, link)}})
			mustContain(t, "confirm", p, http.StatusOK, "Your sign-in email has changed")

			out := logs.String()
			if !strings.Contains(out, "email sent") {
				t.Fatal("no delivery logged; the test would prove nothing")
			}
			for name, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("the log contains the %s", name)
				}
			}
		})
	}
}
