package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestChromiumSignIn signs in with a real browser: from the client's
// authorize URL through the sign-in page to the client's redirect URI,
// whose code is then exchanged.
func TestChromiumSignIn(t *testing.T) {
	bctx := testenv.Chromium(t)
	e := newEnv(t, backends[0])
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>app</title><p id="done">signed in</p>`)
	}))
	t.Cleanup(app.Close)
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t, redirects(app.URL+"/cb"))
	f := newFlow(e.oauth2Config(c))

	ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(f.authURL()),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), u.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("browser location: %v", err)
	}
	back, err := url.Parse(loc)
	if err != nil || back.Host != mustHost(t, app.URL) || back.Path != "/cb" {
		t.Fatalf("browser ended at %s, want the client's redirect URI", loc)
	}
	tok, err := f.exchange(context.Background(), f.code(t, back))
	if err != nil {
		t.Fatalf("exchanging the browser's code: %v", err)
	}
	if _, ok := tok.Extra("id_token").(string); !ok {
		t.Fatal("no ID token")
	}

	// Single sign-on into a second client this browser has not used: the
	// "Continue as" page, whose button finishes the sign-in.
	c2 := e.createClient(t, redirects(app.URL+"/cb2"))
	f2 := newFlow(e.oauth2Config(c2))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f2.authURL()),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/continue"] button`)),
	); err != nil {
		t.Fatalf("Continue page: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Continue as " + u.Name() + "?"; heading != want {
		t.Errorf("Continue page heading %q, want %q", heading, want)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/login/continue"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	); err != nil {
		t.Fatalf("Continue: %v", err)
	}
	loc, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	back, err = url.Parse(loc)
	if err != nil || back.Path != "/cb2" {
		t.Fatalf("after Continue the browser is at %s, want the second client", loc)
	}
	if _, err := f2.exchange(context.Background(), f2.code(t, back)); err != nil {
		t.Fatalf("exchanging the code after Continue: %v", err)
	}
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
