package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// The admin API end to end: the real server on each backend, tokens from
// real sign-ins through the desktop app's built-in client, every call
// through the shared typed client, email through SMTP to a server in this
// process.

// desktopConfig is the desktop app's OAuth view: the built-in public
// client on a loopback redirect with a port of the app's choosing.
func (e *env) desktopConfig(scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email", "roles", "offline_access", api.Scope}
	}
	return &oauth2.Config{
		ClientID: api.DesktopClientID, RedirectURL: "http://127.0.0.1:49213/callback", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/authorize", TokenURL: e.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

// signInWith runs code + PKCE for cfg as email/pw and returns the tokens
// (or the error the provider redirected back with).
func (e *env) signInWith(t *testing.T, cfg *oauth2.Config, email, pw string) (*oauth2.Token, string) {
	t.Helper()
	f := newFlow(cfg)
	back := e.browser().signIn(t, f.authURL(), email, pw)
	if errCode := back.Query().Get("error"); errCode != "" {
		return nil, errCode
	}
	tok, err := f.exchange(context.Background(), f.code(t, back))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, ""
}

// adminClient signs u in through the desktop client and returns the
// shared client acting with the access token.
func (e *env) adminClient(t *testing.T, email, pw string) *api.Client {
	t.Helper()
	tok, errCode := e.signInWith(t, e.desktopConfig(), email, pw)
	if errCode != "" {
		t.Fatalf("admin sign-in: %s", errCode)
	}
	return api.NewClient(e.issuer, nil, api.StaticToken(tok.AccessToken))
}

// apiCode is the admin API error code of err ("" for nil).
func apiCode(err error) api.ErrorCode {
	var e *api.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return api.ErrorCode("not an API error: " + err.Error())
}

func TestAdminAPIE2E(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			me := newMailEnv(t, b)
			e := me.env
			ctx := context.Background()
			super := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
			sc := e.adminClient(t, super.Email, userPassword)

			// The contract is served.
			doc, err := sc.OpenAPI(ctx)
			if err != nil || string(doc) != string(api.OpenAPI()) {
				t.Fatalf("openapi.json: %v", err)
			}
			who, err := sc.Me(ctx)
			if err != nil || who.User.ID != super.ID || !slices.Contains(who.Permissions, api.PermClientsWrite) {
				t.Fatalf("me: %+v %v", who, err)
			}

			// Create an employee: the invitation arrives by SMTP.
			family := "Lamarr" + randHex(4)
			addr := strings.ToLower(e.unique("hedy")) + "@example.com"
			emp, err := sc.CreateEmployee(ctx, api.NewEmployee{GivenName: "Hedy", FamilyName: family, Email: addr,
				JobTitle: "Engineer", Department: "Research"})
			if err != nil {
				t.Fatalf("create employee: %v", err)
			}
			invite := me.mail.wait(addr, "", 1)
			link := invite.link(t, e.issuer, "/invite")

			// Before accepting, they cannot sign in; the link sets the
			// first password; then they can.
			const pw = "violet kestrel marmalade 1947"
			if me.canSignIn(t, addr, pw) {
				t.Fatal("signed in before accepting the invitation")
			}
			br := e.browser()
			form := br.get(t, link)
			mustContain(t, "invitation page", form, http.StatusOK, "Set up your account")
			token := strings.TrimPrefix(link, e.issuer+"/invite?token=")
			done := br.form(t, "/invite", url.Values{"token": {token}, "password": {pw}, "confirm": {pw}})
			if done.StatusCode != http.StatusOK {
				t.Fatalf("accept invitation: %d %.500s", done.StatusCode, done.body)
			}
			if !me.canSignIn(t, addr, pw) {
				t.Fatal("cannot sign in after accepting the invitation")
			}
			// A module signs them in and gets a refresh token.
			mod := e.createClient(t)
			modCfg := e.oauth2Config(mod)
			modTok, errCode := e.signInWith(t, modCfg, addr, pw)
			if errCode != "" || modTok.RefreshToken == "" {
				t.Fatalf("module sign-in: %s", errCode)
			}
			got, err := sc.GetEmployee(ctx, emp.ID)
			if err != nil || got.Status != api.StatusActive || !got.EmailVerified {
				t.Fatalf("after accepting: %+v %v", got, err)
			}

			// Search finds them by name, email and part of either.
			for _, q := range []string{family, strings.ToUpper(addr), family[2:8]} {
				l, err := sc.ListEmployees(ctx, api.ListUsersOptions{Search: q, Status: api.StatusActive})
				if err != nil || !slices.ContainsFunc(l.Items, func(u api.User) bool { return u.ID == emp.ID }) {
					t.Fatalf("search %q: %+v %v", q, l, err)
				}
			}

			// An admin may not make them super admin; an assigning manager
			// may not edit a clinician or an admin. Nothing changes.
			admin := e.createUser(t, storage.UserTypeEmployee, storage.RoleAdmin)
			ac := e.adminClient(t, admin.Email, userPassword)
			if _, err := ac.SetEmployeeRoles(ctx, emp.ID, got.Version, []api.Role{api.RoleSuperAdmin}); apiCode(err) != api.CodeRoleNotGrantable {
				t.Fatalf("admin grants super_admin: %v", err)
			}
			manager := e.createUser(t, storage.UserTypeEmployee, storage.RoleAssigningManager)
			mc := e.adminClient(t, manager.Email, userPassword)
			clin := e.createUser(t, storage.UserTypeClinician)
			title := "Escalated"
			if _, err := mc.UpdateClinician(ctx, clin.ID, clin.Version, api.ClinicianUpdate{JobTitle: &title}); apiCode(err) != api.CodeForbidden {
				t.Fatalf("manager edits clinician: %v", err)
			}
			if _, err := mc.UpdateEmployee(ctx, admin.ID, admin.Version, api.EmployeeUpdate{JobTitle: &title}); apiCode(err) != api.CodeForbidden {
				t.Fatalf("manager edits admin: %v", err)
			}
			for _, id := range []string{emp.ID, clin.ID, admin.ID} {
				u, _ := e.store.GetUser(ctx, id)
				if u.JobTitle == title || u.HasRole(storage.RoleSuperAdmin) {
					t.Fatalf("refused change was written: %+v", u)
				}
			}
			if v, _ := sc.GetEmployee(ctx, emp.ID); v.Version != got.Version {
				t.Fatal("refused escalation changed the version")
			}

			// Disable: their refresh token stops working at once.
			fresh, err := e.refresh(modCfg, modTok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh before disabling: %v", err)
			}
			if _, err := sc.DisableEmployee(ctx, emp.ID); err != nil {
				t.Fatalf("disable: %v", err)
			}
			if _, err := e.refresh(modCfg, fresh.RefreshToken); errorCode(err) != "invalid_grant" {
				t.Fatalf("refresh after disabling: %v, want invalid_grant", err)
			}
			if me.canSignIn(t, addr, pw) {
				t.Fatal("disabled user signed in")
			}

			// The audit log shows each step, with who did it.
			l, err := sc.ListAudit(ctx, api.AuditOptions{Target: emp.ID})
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, a := range l.Items {
				steps = append(steps, a.Action+" by "+map[bool]string{true: "super", false: a.ActorID}[a.ActorID == super.ID])
			}
			for _, want := range []string{api.ActionEmployeeCreate + " by super", "user.invite_accept by " + emp.ID, api.ActionEmployeeDisable + " by super"} {
				if !slices.Contains(steps, want) {
					t.Errorf("audit lacks %q: %v", want, steps)
				}
			}
			for _, a := range l.Items {
				if a.ActorID == super.ID && a.SourceAddr == "" {
					t.Errorf("audit entry without source address: %+v", a)
				}
			}

			// Who may get an admin token: a plain employee is not admitted
			// by the desktop client; a module without scope admin cannot
			// use its token on the admin API.
			plain := e.createUser(t, storage.UserTypeEmployee)
			if _, errCode := e.signInWith(t, e.desktopConfig(), plain.Email, userPassword); errCode != "access_denied" {
				t.Fatalf("plain employee at the desktop client: %q, want access_denied", errCode)
			}
			other := e.createClient(t)
			tok, errCode := e.signInWith(t, e.oauth2Config(other, "openid", "roles", api.Scope), super.Email, userPassword)
			if errCode != "" {
				t.Fatalf("module asking for scope admin: %s (op drops a scope the client may not have)", errCode)
			}
			if scope, _ := tok.Extra("scope").(string); strings.Contains(scope, api.Scope) {
				t.Fatalf("a client without scope admin was granted it: %q", scope)
			}
			if _, err := api.NewClient(e.issuer, nil, api.StaticToken(tok.AccessToken)).Me(ctx); apiCode(err) != api.CodeInsufficientScope {
				t.Fatalf("token of a client without scope admin: %v", err)
			}
			// And a demoted admin is locked out on the next request.
			if _, err := sc.SetEmployeeRoles(ctx, admin.ID, admin.Version, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := ac.ListEmployees(ctx, api.ListUsersOptions{}); apiCode(err) != api.CodeForbidden {
				t.Fatalf("demoted admin: %v", err)
			}
		})
	}
}
