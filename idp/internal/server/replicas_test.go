package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestTwoInstances runs two servers on one PostgreSQL database behind one
// issuer URL, as two replicas behind a load balancer: every step may land on
// either.
func TestTwoInstances(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	e := newEnvDSN(t, dsn)
	a := *e.sw.h.Load()
	b := e.instance(openStore(t, dsn))
	ctx := context.Background()

	// Both publish the same keys.
	kids := func() []string {
		_, d := getJSON(t, e.issuer+"/keys")
		var out []string
		for _, k := range d["keys"].([]any) {
			out = append(out, k.(map[string]any)["kid"].(string))
		}
		slices.Sort(out)
		return out
	}
	ka := kids()
	e.sw.set(b)
	if kb := kids(); !slices.Equal(ka, kb) {
		t.Fatalf("replicas publish different keys: %v vs %v", ka, kb)
	}

	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)

	// Sign in on A…
	e.sw.set(a)
	f := newFlow(e.oauth2Config(c))
	br := e.browser()
	code := f.code(t, br.signIn(t, f.authURL(), u.Email, userPassword))

	// …redeem and verify on B.
	e.sw.set(b)
	tok, err := f.exchange(ctx, code)
	if err != nil {
		t.Fatalf("exchange on B: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.provider(t).Verifier(&gooidc.Config{ClientID: c.ID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != f.nonce || idt.Subject != u.ID {
		t.Fatalf("ID token verified with B's JWKS: %v", err)
	}
	tok2, err := e.refresh(f.cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh on B: %v", err)
	}

	// Back on A: its JWKS verifies what B signed, the rotated token is
	// known to be rotated, the session is shared.
	e.sw.set(a)
	raw2, _ := tok2.Extra("id_token").(string)
	if _, err := e.provider(t).Verifier(&gooidc.Config{ClientID: c.ID}).Verify(ctx, raw2); err != nil {
		t.Fatalf("B's refreshed ID token verified with A's JWKS: %v", err)
	}
	if !e.introspect(t, c, tok2.AccessToken) {
		t.Fatal("B's access token inactive on A")
	}
	tok3, err := e.refresh(f.cfg, tok2.RefreshToken)
	if err != nil {
		t.Fatalf("refresh on A: %v", err)
	}
	// A retry on B of the token A just rotated (its answer lost) works and
	// retires A's successor; once the retry's successor is used, the old
	// token is reuse on either replica.
	e.sw.set(b)
	retry, err := e.refresh(f.cfg, tok2.RefreshToken)
	if err != nil {
		t.Fatalf("retry on B of a token A rotated: %v", err)
	}
	if _, err := e.refresh(f.cfg, tok3.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("A's successor after B's retry: %v, want invalid_grant", err)
	}
	e.sw.set(a)
	tok4, err := e.refresh(f.cfg, retry.RefreshToken)
	if err != nil {
		t.Fatalf("refresh on A with B's successor: %v", err)
	}
	e.sw.set(b)
	if _, err := e.refresh(f.cfg, tok2.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("reuse on B of a token whose successor A used: %v", err)
	}
	if _, err := e.refresh(f.cfg, tok4.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("family not revoked across replicas: %v", err)
	}
	f2 := newFlow(e.oauth2Config(c))
	p := br.get(t, f2.authURL(oauth2.SetAuthURLParam("prompt", "none")))
	if p.StatusCode != http.StatusFound {
		t.Fatalf("prompt=none on B with A's session: %d", p.StatusCode)
	}
	f2.code(t, clientRedirect(t, p))
}
