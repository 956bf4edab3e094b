package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Account-lock denial of service, through the real pages: an attacker's
// five wrong passwords lock the account for every browser without a device
// cookie of it, the attacker's included, while the victim's browser — which
// got a device cookie when they signed in before — still signs in. The
// outcomes are in the audit log.
func TestDeviceCookieThroughThePages(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			c := e.createClient(t)
			victim := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)

			// The victim signs in once; the sign-in answer sets the cookie.
			f := newFlow(e.oauth2Config(c))
			vb := e.browser()
			form := vb.get(t, f.authURL())
			id := authRequestIDRE.FindStringSubmatch(form.body)
			if id == nil {
				t.Fatalf("no sign-in form: %.300s", form.body)
			}
			noFollow := &http.Client{Jar: vb.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			raw, err := noFollow.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id[1]}, "email": {victim.Email}, "password": {userPassword}})
			if err != nil {
				t.Fatal(err)
			}
			resp := readPage(t, raw)
			f.code(t, clientRedirect(t, vb.get(t, raw.Request.URL.ResolveReference(mustParse(t, resp.Header.Get("Location"))).String())))
			var set string
			for _, h := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(h, signin.DeviceCookieName+"=") {
					set = h
				}
			}
			if set == "" || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") || !strings.Contains(set, "Max-Age=") {
				t.Fatalf("sign-in answer sets device cookie %q; want HttpOnly, SameSite=Strict, long-lived", set)
			}

			// The attacker guesses from another browser.
			ab := e.browser()
			af := newFlow(e.oauth2Config(c))
			aform := ab.get(t, af.authURL())
			for i := 1; i <= 5; i++ {
				p := ab.submitLogin(t, aform, victim.Email, "wrong guess number "+string(rune('0'+i)))
				want := http.StatusUnauthorized
				if i == 5 {
					want = http.StatusTooManyRequests
				}
				if p.StatusCode != want {
					t.Fatalf("attacker's guess %d: status %d, want %d", i, p.StatusCode, want)
				}
			}
			if p := ab.submitLogin(t, aform, victim.Email, userPassword); p.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("attacker with the right password after the lock: %d, want 429", p.StatusCode)
			}

			// The victim signs in again (prompt=login: the form, not SSO).
			vf := newFlow(e.oauth2Config(c))
			vform := vb.get(t, vf.authURL(oauth2.SetAuthURLParam("prompt", "login")))
			code := vf.code(t, clientRedirect(t, vb.submitLogin(t, vform, victim.Email, userPassword)))
			if _, err := vf.exchange(context.Background(), code); err != nil {
				t.Fatalf("victim's exchange: %v", err)
			}

			// A browser that never signed in is still locked out.
			fresh := e.browser()
			ff := newFlow(e.oauth2Config(c))
			if p := fresh.submitLogin(t, fresh.get(t, ff.authURL()), victim.Email, userPassword); p.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("new browser with the right password: %d, want 429", p.StatusCode)
			}

			entries, _, err := e.store.ListAudit(context.Background(), storage.AuditQuery{TargetID: victim.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, en := range entries {
				count[en.Action]++
				if en.SourceAddr == "" {
					t.Errorf("%s without a source address", en.Action)
				}
			}
			if count[api.ActionSigninSuccess] != 2 || count[api.ActionSigninFailure] != 5 || count[api.ActionSigninLock] != 1 {
				t.Fatalf("audit of the victim's account: %v", count)
			}
		})
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
