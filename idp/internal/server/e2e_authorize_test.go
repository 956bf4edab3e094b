package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// testAuthorizeDetails covers the authorization endpoint lines of
// OIDC-NOTES that the main flows do not.
func testAuthorizeDetails(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)

	t.Run("POST works like GET, unknown parameters ignored", func(t *testing.T) {
		f := newFlow(e.oauth2Config(c))
		au, _ := url.Parse(f.authURL())
		q := au.Query()
		q.Set("unknown_param", "whatever")
		b := e.browser()
		resp, err := b.c.PostForm(e.issuer+"/authorize", q)
		if err != nil {
			t.Fatal(err)
		}
		form := readPage(t, resp)
		code := f.code(t, clientRedirect(t, b.submitLogin(t, form, u.Email, userPassword)))
		if _, err := f.exchange(context.Background(), code); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unsupported or missing response_type", func(t *testing.T) {
		for rt, want := range map[string]string{"token": "unsupported_response_type", "id_token": "unsupported_response_type", "": "invalid_request"} {
			cfg := e.oauth2Config(c)
			q := url.Values{"client_id": {c.ID}, "redirect_uri": {cfg.RedirectURL}, "scope": {"openid"}, "state": {"st"}}
			if rt != "" {
				q.Set("response_type", rt)
			}
			back := clientRedirect(t, e.browser().get(t, e.issuer+"/authorize?"+q.Encode()))
			if back.Query().Get("error") != want || back.Query().Get("state") != "st" || back.Query().Get("code") != "" {
				t.Errorf("response_type %q: %s, want error=%s with state", rt, back, want)
			}
		}
	})
	t.Run("unsupported response_type for an http redirect URI", func(t *testing.T) {
		// op's redirect check refuses http for anything but the code flow;
		// the client's registered loopback URI is still valid.
		web := e.createClient(t, redirects("http://127.0.0.1:7777/cb"))
		q := url.Values{"client_id": {web.ID}, "redirect_uri": {"http://127.0.0.1:7777/cb"}, "scope": {"openid"}, "state": {"st"}, "response_type": {"token"}}
		back := clientRedirect(t, e.browser().get(t, e.issuer+"/authorize?"+q.Encode()))
		if back.Query().Get("error") != "unsupported_response_type" || back.Query().Get("state") != "st" {
			t.Errorf("response_type=token: %s, want unsupported_response_type", back)
		}
	})
	t.Run("iss in every authorization response (RFC 9207)", func(t *testing.T) {
		// success, query
		f := newFlow(e.oauth2Config(c))
		back := e.browser().signIn(t, f.authURL(), u.Email, userPassword)
		if back.Query().Get("iss") != e.issuer || back.Query().Get("code") == "" {
			t.Errorf("success: %s, want iss=%s", back, e.issuer)
		}
		// success, fragment
		f = newFlow(e.oauth2Config(c))
		back = e.browser().signIn(t, f.authURL(oauth2.SetAuthURLParam("response_mode", "fragment")), u.Email, userPassword)
		frag, _ := url.ParseQuery(back.Fragment)
		if frag.Get("iss") != e.issuer || frag.Get("code") == "" || back.Query().Has("iss") {
			t.Errorf("success in the fragment: %s, want iss=%s in the fragment", back, e.issuer)
		}
		// errors from op, from our guard and from the sign-in pages
		f = newFlow(e.oauth2Config(c))
		for name, u := range map[string]string{
			"login_required": f.authURL(oauth2.SetAuthURLParam("prompt", "none")),
			"invalid_scope":  f.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("scope", "nonsense"), oauth2.S256ChallengeOption(f.verifier)),
			"unsupported":    f.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("response_type", "token")),
		} {
			back := clientRedirect(t, e.browser().get(t, u))
			if back.Query().Get("error") == "" || back.Query().Get("iss") != e.issuer {
				t.Errorf("%s: %s, want an error with iss=%s", name, back, e.issuer)
			}
		}
		_, m := getJSON(t, e.issuer+"/.well-known/openid-configuration")
		if m["authorization_response_iss_parameter_supported"] != true {
			t.Error("discovery does not advertise authorization_response_iss_parameter_supported")
		}
	})
	t.Run("login_hint prefills the identifier", func(t *testing.T) {
		f := newFlow(e.oauth2Config(c))
		p := e.browser().get(t, f.authURL(oauth2.SetAuthURLParam("login_hint", u.Email)))
		if !strings.Contains(p.body, `value="`+html.EscapeString(u.Email)+`"`) {
			t.Errorf("login page does not prefill %s", u.Email)
		}
	})
	t.Run("prompt=login shows the form despite a session", func(t *testing.T) {
		_, _, b := e.login(t, c, u)
		f := newFlow(e.oauth2Config(c))
		p := b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "login")))
		if p.StatusCode != http.StatusOK || !authRequestIDRE.MatchString(p.body) {
			t.Fatalf("prompt=login: status %d, want the sign-in form", p.StatusCode)
		}
	})
	t.Run("id_token_hint with prompt=none", func(t *testing.T) {
		_, tok, b := e.login(t, c, u)
		hint, _ := tok.Extra("id_token").(string)
		f := newFlow(e.oauth2Config(c))
		p := b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", hint)))
		f.code(t, clientRedirect(t, p))
	})
}
