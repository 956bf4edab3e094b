package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Token lifecycle tests: refresh, userinfo, introspection, revocation,
// service tokens, and what disabling or re-typing a user does to them.

func testRefreshRotation(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeClinician)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)
	idt0, _ := tok.Extra("id_token").(string)
	tok2, err := e.refresh(f.cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh must rotate the refresh token")
	}
	// Refreshed ID tokens keep sub, auth_time and amr.
	p := e.provider(t)
	v := p.Verifier(&gooidc.Config{ClientID: c.ID})
	a, err := v.Verify(context.Background(), idt0)
	if err != nil {
		t.Fatal(err)
	}
	raw2, _ := tok2.Extra("id_token").(string)
	b, err := v.Verify(context.Background(), raw2)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	var ca, cb struct {
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		AZP      string   `json:"azp"`
	}
	_ = a.Claims(&ca)
	_ = b.Claims(&cb)
	if a.Subject != b.Subject || ca.AuthTime != cb.AuthTime || !slices.Equal(ca.AMR, cb.AMR) || cb.AZP != c.ID {
		t.Errorf("refreshed ID token changed: %+v vs %+v", ca, cb)
	}
	// Once its successor has been used, reusing the rotated token revokes
	// the family: the newest token and its access token stop working too.
	// (A retry before the successor is used is TestRefreshRetry's.)
	newest, err := e.refresh(f.cfg, tok2.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the successor: %v", err)
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("reuse of a rotated token: %v, want invalid_grant", err)
	}
	if _, err := e.refresh(f.cfg, newest.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("newest refresh token after reuse: %v, want invalid_grant", err)
	}
	if e.introspect(t, c, newest.AccessToken) {
		t.Error("access token of the revoked family still active")
	}
	// Another client's refresh token.
	_, tok3, _ := e.login(t, c, u)
	other := e.createClient(t)
	if _, err := e.refresh(e.oauth2Config(other), tok3.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh with another client's token: %v, want invalid_grant", err)
	}
}

func testUserinfo(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	_, tok, _ := e.login(t, c, u)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		resp, info := e.userinfo(t, m, tok.AccessToken)
		if resp.StatusCode != http.StatusOK || info["sub"] != u.ID || info["email"] != u.Email || info["email_verified"] != true {
			t.Errorf("%s userinfo: %d %v", m, resp.StatusCode, info)
		}
		if info["name"] != "Ada Lovelace" || info["user_type"] != "employee" {
			t.Errorf("%s userinfo claims: %v", m, info)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("userinfo may be cached")
		}
	}
	for name, bad := range map[string]string{"garbage": "not-a-token", "tampered": tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"} {
		resp, body := e.userinfo(t, http.MethodGet, bad)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s token: %d WWW-Authenticate %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if body["error"] != "invalid_token" {
			t.Errorf("%s token body %v", name, body)
		}
	}
}

func testIntrospectRevoke(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)
	resp, m := e.post(t, "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, c.secret)
	if resp.StatusCode != 200 || m["active"] != true || m["sub"] != u.ID || m["client_id"] != c.ID {
		t.Fatalf("introspect: %d %v", resp.StatusCode, m)
	}
	if e.introspect(t, c, "garbage") {
		t.Error("garbage introspects active")
	}
	// Introspection needs client authentication.
	if resp, _ := e.post(t, "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("introspection with a wrong secret: %d", resp.StatusCode)
	}
	// Userinfo has verified (and cached) the token's signature before the
	// revocation: the revocation takes effect at once all the same.
	for range 2 {
		if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo before the revocation: %d", resp.StatusCode)
		}
	}
	// Revoke the access token.
	if resp, _ := e.post(t, "/revoke", url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}, c.ID, c.secret); resp.StatusCode != 200 {
		t.Fatalf("revoke access token: %d", resp.StatusCode)
	}
	if e.introspect(t, c, tok.AccessToken) {
		t.Error("revoked access token still active")
	}
	if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a revoked access token: %d", resp.StatusCode)
	}
	// Revoke the refresh token.
	if resp, _ := e.post(t, "/revoke", url.Values{"token": {tok.RefreshToken}}, c.ID, c.secret); resp.StatusCode != 200 {
		t.Fatalf("revoke refresh token: %d", resp.StatusCode)
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("revoked refresh token: %v", err)
	}
	// Unknown tokens: success.
	if resp, _ := e.post(t, "/revoke", url.Values{"token": {"no-such-token"}}, c.ID, c.secret); resp.StatusCode != 200 {
		t.Errorf("revoking an unknown token: %d, want 200", resp.StatusCode)
	}
}

func testClientCredentials(t *testing.T, e *env) {
	svc := e.createClient(t, grants(storage.GrantClientCredentials), func(c *storage.Client) { c.Scopes = []string{"reports.read"} })
	cc := clientcredentials.Config{ClientID: svc.ID, ClientSecret: svc.secret, TokenURL: e.issuer + "/oauth/token",
		Scopes: []string{"reports.read", "admin", "openid"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	at, err := e.provider(t).Verifier(&gooidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{gooidc.ES256}}).Verify(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatalf("service token: %v", err)
	}
	var m map[string]any
	_ = at.Claims(&m)
	if m["sub"] != svc.ID || m["client_id"] != svc.ID || m["scope"] != "reports.read" {
		t.Errorf("service token claims %v", m)
	}
	if !e.introspect(t, svc, tok.AccessToken) {
		t.Error("service token inactive")
	}
	if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a service token: %d", resp.StatusCode)
	}
	// A client without the grant.
	web := e.createClient(t)
	cc2 := clientcredentials.Config{ClientID: web.ID, ClientSecret: web.secret, TokenURL: e.issuer + "/oauth/token"}
	if _, err := cc2.Token(context.Background()); errorCode(err) != "unauthorized_client" {
		t.Errorf("client_credentials without the grant: %v", err)
	}
}

func testRoleChangeRefresh(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeClinician)
	mobile := e.createClient(t, admits(storage.UserTypeClinician))
	f, tok, _ := e.login(t, mobile, u)
	if _, err := e.store.UpdateUser(context.Background(), u.ID, 0, func(x *storage.User) error {
		x.Type = storage.UserTypeEmployee
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh after the client stopped admitting the user: %v", err)
	}
}
