package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestChromiumMFASetup sets up an authenticator app in headless Chromium
// through the real pages, under the production CSP and cross-origin
// protection: the QR code loads, the test reads the key for manual entry
// off the page (#totp-secret), computes the code with pquerna/otp and
// confirms; the recovery codes are shown once and download as a .txt file
// with the same codes; the account page then shows the app is on.
func TestChromiumMFASetup(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newMailEnv(t, b)
			u := e.user(t)
			bctx := testenv.Chromium(t)
			ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
			defer cancel()
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
				chromedp.WaitVisible(chromedp.ID("password")),
				chromedp.SendKeys(chromedp.ID("email"), u.Email),
				chromedp.SendKeys(chromedp.ID("password"), userPassword),
				chromedp.Click(chromedp.CSS(`button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("mfa-h")),
				chromedp.Click(chromedp.CSS(`a[href="/account/mfa"]`)),
			); err != nil {
				t.Fatalf("sign in and open two-step sign-in: %v", err)
			}
			h1("Two-step sign-in")
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/account/mfa/setup"] button`))); err != nil {
				t.Fatal(err)
			}
			h1("Set up an authenticator app")

			// The QR code loads under the CSP (img-src 'self').
			var width int
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && width == 0; time.Sleep(50 * time.Millisecond) {
				width, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const i = document.querySelector("img.qr"); return i && i.complete ? i.naturalWidth : 0 })()`))
			}
			if width != 240 {
				t.Fatalf("QR code natural width %d, want 240", width)
			}
			secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("totp-secret")))
			if err != nil {
				t.Fatalf("manual key: %v", err)
			}
			app := authenticator{key: strings.ReplaceAll(strings.TrimSpace(secret), " ", "")}
			attrs, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.ID("totp-code")))
			if err != nil || attrs["autocomplete"] != "one-time-code" || attrs["inputmode"] != "numeric" {
				t.Fatalf("code input: %v %v", attrs, err)
			}
			code := app.code(t, e.clock.Now())
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.ID("totp-code"), code),
				chromedp.Click(chromedp.CSS(`form[action="/account/mfa/confirm"] button`)),
			); err != nil {
				t.Fatal(err)
			}
			h1("Save your recovery codes")
			codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recovery-codes code")].map(c => c.textContent)`))
			if err != nil || len(codes) != 10 {
				t.Fatalf("recovery codes %v (%v), want 10", codes, err)
			}

			// The .txt download works from the data: link.
			dir := t.TempDir()
			if err := chromedp.Do(ctx,
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
						Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
					})
					return err
				}),
				chromedp.Click(chromedp.ID("download-codes")),
			); err != nil {
				t.Fatalf("download: %v", err)
			}
			var file []byte
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if file, err = os.ReadFile(filepath.Join(dir, "cliniconnects-recovery-codes.txt")); err == nil && len(file) > 0 {
					break
				}
			}
			for _, c := range codes {
				if !strings.Contains(string(file), c) {
					t.Fatalf("downloaded file lacks %s: %q (%v)", c, file, err)
				}
			}

			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`p.aside a[href="/account/mfa"]`))); err != nil {
				t.Fatal(err)
			}
			h1("Two-step sign-in")
			state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
			if err != nil || !strings.Contains(state, "On since") || !strings.Contains(state, "10 unused") || strings.Contains(state, codes[0]) {
				t.Fatalf("state page (%v): %s", err, state)
			}
			e.mail.wait(u.Email, "Two-step sign-in is now on", 1)

			// The code that confirmed the app was used up; a recovery code
			// from the page signs in once.
			mfa := e.mfa(t)
			if _, err := mfa.VerifySignIn(context.Background(), u, code, "", ""); !errors.Is(err, account.ErrWrongCode) {
				t.Fatalf("the confirming code again: %v", err)
			}
			if f, err := mfa.VerifySignIn(context.Background(), u, codes[0], "", ""); err != nil || f != account.FactorRecoveryCode {
				t.Fatalf("recovery code from the page: %v %v", f, err)
			}
		})
	}
}
