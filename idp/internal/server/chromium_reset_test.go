package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestChromiumForgotReset walks the forgot-password flow in headless
// Chromium through the real pages, under the production CSP and
// cross-origin protection: from the sign-in page's "Forgot your password?"
// link, through the email the SMTP server receives, to the reset form and
// a sign-in with the new password that lands on the account page.
func TestChromiumForgotReset(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newMailEnv(t, b)
			u := e.user(t)

			bctx := testenv.Chromium(t)
			ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
			defer cancel()
			// h1 waits for the page whose heading is want: the pages share
			// elements, so only the heading tells that a navigation is over.
			h1 := func(want string) {
				t.Helper()
				var got string
				var err error
				for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(document.readyState === "complete" && document.querySelector("h1")) ? document.querySelector("h1").textContent : ""`))
					if err == nil && got == want {
						return
					}
				}
				t.Fatalf("page heading %q (%v), want %q", got, err, want)
			}

			if err := chromedp.Do(ctx,
				chromedp.Navigate(e.issuer+"/login"),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/forgot"]`)),
				chromedp.Click(chromedp.CSS(`a[href="/forgot"]`)),
			); err != nil {
				t.Fatalf("sign-in page: %v", err)
			}
			h1("Reset your password")
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.ID("email"), u.Email),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			); err != nil {
				t.Fatalf("forgot page: %v", err)
			}
			h1("Check your email")
			link := e.mail.wait(u.Email, "Reset", 1).link(t, e.issuer, "/reset")

			if err := chromedp.Do(ctx,
				chromedp.Navigate(link),
				chromedp.WaitVisible(chromedp.ID("new-password")),
				// A mismatch first: the error shows next to the field.
				chromedp.SendKeys(chromedp.ID("new-password"), newPassword),
				chromedp.SendKeys(chromedp.ID("confirm-password"), newPassword+"!"),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("confirm-password-error")),
			); err != nil {
				t.Fatalf("reset page: %v", err)
			}
			errText, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("confirm-password-error")))
			if err != nil || !strings.Contains(errText, "do not match") {
				t.Errorf("mismatch error %q (%v)", errText, err)
			}
			focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
			if err != nil || focused != "confirm-password" {
				t.Errorf("focus after the error on %q (%v), want the confirmation field", focused, err)
			}
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.ID("new-password"), newPassword),
				chromedp.SendKeys(chromedp.ID("confirm-password"), newPassword),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			); err != nil {
				t.Fatalf("set new password: %v", err)
			}
			h1("Your password has been changed")

			if err := chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`p.aside a[href="/login"]`)),
				chromedp.WaitVisible(chromedp.ID("password")),
				chromedp.SendKeys(chromedp.ID("email"), u.Email),
				chromedp.SendKeys(chromedp.ID("password"), newPassword),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("profile-h")),
			); err != nil {
				t.Fatalf("sign in with the new password: %v", err)
			}
			h1("Your account")
			body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
			if err != nil || !strings.Contains(body, u.Email) {
				t.Fatalf("account page does not show %s (%v): %s", u.Email, err, body)
			}
			if e.canSignIn(t, u.Email, userPassword) {
				t.Fatal("old password still works")
			}
		})
	}
}
