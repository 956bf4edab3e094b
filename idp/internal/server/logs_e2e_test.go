package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.sb.String() }

// TestNoSecretInLogs signs in (after a wrong password), exchanges, refreshes,
// calls userinfo, introspects and revokes with the log at debug level, then
// looks for every secret of the flow in the log.
func TestNoSecretInLogs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			var logs lockedBuffer
			e := &env{t: t, logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			e.start(b.dsn(t))
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)

			const wrong = "wrong horse battery staple"
			br := e.browser()
			f := newFlow(e.oauth2Config(c, "openid", "email", "offline_access"))
			p := br.get(t, f.authURL())
			if res := br.submitLogin(t, p, u.Email, wrong); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: status %d", res.StatusCode)
			}
			redirect := br.signIn(t, f.authURL(), u.Email, userPassword)
			code := f.code(t, redirect)
			tok, err := f.exchange(context.Background(), code)
			if err != nil {
				t.Fatal(err)
			}
			next, err := e.refresh(f.cfg, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			e.userinfo(t, http.MethodGet, next.AccessToken)
			e.introspect(t, c, next.AccessToken)
			e.post(t, "/revoke", url.Values{"token": {next.RefreshToken}}, c.ID, c.secret)

			secrets := map[string]string{
				"password": userPassword, "wrong password": wrong, "client secret": c.secret, "code": code,
				"access token": tok.AccessToken, "refresh token": tok.RefreshToken,
				"rotated refresh token": next.RefreshToken, "verifier": f.verifier,
			}
			if idt, ok := tok.Extra("id_token").(string); ok {
				secrets["id token"] = idt
			}
			for _, ck := range br.c.Jar.Cookies(mustURL(t, e.issuer)) {
				secrets["cookie "+ck.Name] = ck.Value
			}
			out := logs.String()
			if !strings.Contains(out, "level=") {
				t.Fatal("no log captured; the test would prove nothing")
			}
			for name, s := range secrets {
				if s != "" && strings.Contains(out, s) {
					t.Errorf("the log contains the %s", name)
				}
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
