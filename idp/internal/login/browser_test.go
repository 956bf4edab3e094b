package login_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestSignInInChromium signs in through the real page in headless Chromium,
// under the production CSP: the form must render, take focus, load its
// stylesheet, submit, and land the browser on the client's callback. (The
// full OIDC flow through /authorize is tested elsewhere.)
func TestSignInInChromium(t *testing.T) {
	e := newEnv(t, testenv.OpenStore(t, testenv.SQLitePath(t), nil))

	// The relying party: records where the browser lands.
	var (
		mu   sync.Mutex
		hits []url.Values
	)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		hits = append(hits, r.URL.Query())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>Client</title><p id="done">signed in</p>`))
	}))
	t.Cleanup(rp.Close)
	callback := rp.URL + "/callback?code=test-code&state=xyz"
	e.callbackURL = func(string) string { return callback }
	// The browser holds the binding cookie /authorize would have set.
	bind := e.newBinding()
	r := e.authRequest(e.client)

	bctx := testenv.Chromium(t)
	tctx, cancel := context.WithTimeout(bctx, 15*time.Second)
	defer cancel()

	httpOnly := true
	if _, err := chromedp.Call(tctx, network.SetCookie, network.SetCookieParams{
		Name: binding.CookieName, Value: bind, URL: e.srv.URL, HTTPOnly: &httpOnly,
	}); err != nil {
		t.Fatalf("set the binding cookie: %v", err)
	}
	if err := chromedp.Do(tctx,
		chromedp.Navigate(e.srv.URL+"/login?authRequestID="+url.QueryEscape(r.ID)),
		chromedp.WaitVisible(chromedp.ID("email")),
	); err != nil {
		t.Fatalf("open the sign-in page: %v", err)
	}
	focused, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "email" {
		t.Errorf("focused element %q (%v), want the email field", focused, err)
	}
	bg, err := chromedp.Run(tctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button")).backgroundColor`))
	if err != nil || bg != "rgb(11, 92, 140)" {
		t.Errorf("button background %q (%v): the stylesheet did not load under the CSP", bg, err)
	}

	if err := chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.ID("email"), userEmail),
		chromedp.SendKeys(chromedp.ID("password"), userPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("done")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	loc, err := chromedp.Run(tctx, chromedp.Location())
	if err != nil || loc != callback {
		t.Fatalf("browser at %q (%v), want %q", loc, err, callback)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 1 || hits[0].Get("code") != "test-code" || hits[0].Get("state") != "xyz" {
		t.Errorf("client callback hits: %v", hits)
	}

	got := e.loadRequest(r.ID)
	if !got.Done || got.UserID != e.user.ID || strings.Join(got.AMR, ",") != "pwd" {
		t.Errorf("auth request after sign-in: %+v", got)
	}
	// The browser holds the session cookie, HttpOnly and scoped to the site.
	cookies, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || strings.Contains(cookies, session.DefaultCookieName) {
		t.Errorf("document.cookie = %q (%v): the session cookie must be HttpOnly", cookies, err)
	}
	if _, err := e.st.GetSession(t.Context(), got.SessionID, e.clock.Now()); err != nil {
		t.Errorf("session of the sign-in: %v", err)
	}
}
