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
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/testenv"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestChromiumPhoneSignIn walks the phone pages in a real browser: from a
// phone client's authorize URL (so the binding cookie is real) through
// activation — number, the code from the captured SMS, the PIN — back to
// the client; then a sign-in with number and PIN (prompt=login).
func TestChromiumPhoneSignIn(t *testing.T) {
	bctx := testenv.Chromium(t)
	e := newPhoneEnv(t, backends[0], "webhook")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>app</title><p id="done">signed in</p>`)
	}))
	t.Cleanup(app.Close)
	ctx := context.Background()
	cl, err := e.admin.CreateClient(ctx, api.NewOIDCClient{ID: "mobile-web-" + randHex(6), Name: "CliniConnects mobile",
		Public: true, SignInMethod: api.SignInPhone, RedirectURIs: []string{app.URL + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.GetClient(ctx, cl.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	client := testClient{Client: c}
	number := e.number()
	u := e.clinician(t, number)

	bc, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	back := func(f *flow) map[string]any {
		t.Helper()
		loc, err := chromedp.Run(bc, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil || u.Host != mustHost(t, app.URL) || u.Path != "/cb" {
			t.Fatalf("browser ended at %s, want the client's redirect URI", loc)
		}
		_, _, claims := (&phoneEnv{mailEnv: e.mailEnv, app: client}).appTokens(t, f, page{Response: &http.Response{
			StatusCode: http.StatusFound, Header: http.Header{"Location": {loc}}}})
		return claims
	}

	f := newFlow(e.oauth2Config(client, appScopes...))
	err = chromedp.Do(bc,
		chromedp.Navigate(f.authURL()),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.Click(chromedp.CSS(`a[href^="/login/phone/activate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), number),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)),
	)
	if err != nil {
		t.Fatalf("activation pages: %v", err)
	}
	if a, err := chromedp.Run(bc, chromedp.AttributeValue(chromedp.CSS(`#code`), "autocomplete")); err != nil || a.Value != "one-time-code" {
		t.Errorf("code input autocomplete %q, %v", a.Value, err)
	}
	code := e.sms.code(number, 1, e.issuer)
	err = chromedp.Do(bc,
		chromedp.SendKeys(chromedp.CSS(`#code`), code),
		chromedp.Click(chromedp.CSS(`form[action="/login/phone/code"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-pin`)),
		chromedp.SendKeys(chromedp.CSS(`#new-pin`), pinA),
		chromedp.SendKeys(chromedp.CSS(`#confirm-pin`), pinA),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	)
	if err != nil {
		t.Fatalf("code and PIN pages: %v", err)
	}
	if claims := back(f); claims["sub"] != u.ID || amr(claims) != "sms,pin" {
		t.Fatalf("after activation: %v", claims)
	}

	// Number and PIN, on the form a new sign-in shows.
	f = newFlow(e.oauth2Config(client, appScopes...))
	err = chromedp.Do(bc,
		chromedp.Navigate(f.authURL(oauth2.SetAuthURLParam("prompt", "login"))),
		chromedp.WaitVisible(chromedp.CSS(`#pin`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), number),
		chromedp.SendKeys(chromedp.CSS(`#pin`), pinA),
		chromedp.Click(chromedp.CSS(`form[action="/login/phone"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	)
	if err != nil {
		t.Fatalf("PIN sign-in: %v", err)
	}
	if claims := back(f); claims["sub"] != u.ID || amr(claims) != "pin" {
		t.Fatalf("after the PIN sign-in: %v", claims)
	}
}
