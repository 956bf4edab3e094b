package login_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// tag returns the first HTML start tag of kind (e.g. "input") whose
// attributes contain attr (e.g. `id="email"`), or "".
func tag(body, kind, attr string) string {
	re := regexp.MustCompile(`<` + kind + `\b[^>]*\b` + regexp.QuoteMeta(attr) + `[^>]*>`)
	return re.FindString(body)
}

func hasAutofocus(input string) bool {
	return regexp.MustCompile(`\sautofocus[\s>]`).MatchString(input)
}

// assertSafePage checks what every page must be: HTML, not cached, no
// script and no inline style (the CSP forbids both).
func assertSafePage(t *testing.T, res response) {
	t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	for _, bad := range []string{"<script", " style=", "<style", "javascript:"} {
		if strings.Contains(res.body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if !strings.Contains(res.body, "CliniConnects") || !strings.Contains(res.body, `href="/static/style.css"`) {
		t.Error("page lacks the product name or the stylesheet")
	}
}

func TestFormRenders(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)

		t.Run("without hint", func(t *testing.T) {
			res := e.getLogin(e.authRequest(e.client).ID)
			if res.status != http.StatusOK {
				t.Fatalf("status %d\n%s", res.status, res.body)
			}
			assertSafePage(t, res)
			for _, want := range []string{
				`<label for="email">`, `<label for="password">`, `<form method="post" action="/login"`,
				`<a href="/forgot">Forgot your password?</a>`, "to continue to Clinic Portal", `<button type="submit">`,
			} {
				if !strings.Contains(res.body, want) {
					t.Errorf("form lacks %s", want)
				}
			}
			email, pw := tag(res.body, "input", `id="email"`), tag(res.body, "input", `id="password"`)
			if !strings.Contains(email, `autocomplete="username"`) || !strings.Contains(email, `type="text"`) || !strings.Contains(email, `inputmode="email"`) || !strings.Contains(email, `value=""`) {
				t.Errorf("email input: %s", email)
			}
			if !strings.Contains(pw, `autocomplete="current-password"`) || !strings.Contains(pw, `type="password"`) {
				t.Errorf("password input: %s", pw)
			}
			if !hasAutofocus(email) || hasAutofocus(pw) {
				t.Errorf("autofocus belongs on the empty email field:\n%s\n%s", email, pw)
			}
			if strings.Contains(res.body, "aria-invalid") || strings.Contains(res.body, "aria-describedby") {
				t.Error("a fresh form shows an error state")
			}
		})

		t.Run("login_hint prefills the email", func(t *testing.T) {
			res := e.getLogin(e.authRequest(e.client, withLoginHint(`grace+"<x>"@example.com`)).ID)
			email, pw := tag(res.body, "input", `id="email"`), tag(res.body, "input", `id="password"`)
			if !strings.Contains(email, `value="grace&#43;&#34;&lt;x&gt;&#34;@example.com"`) {
				t.Errorf("hint not prefilled (escaped): %s", email)
			}
			if hasAutofocus(email) || !hasAutofocus(pw) {
				t.Errorf("autofocus belongs on the password when the email is filled:\n%s\n%s", email, pw)
			}
		})
	})
}

func TestWrongPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		res := e.postLogin(r.ID, userEmail, "not the password")
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.status)
		}
		assertSafePage(t, res)
		if !strings.Contains(res.body, "<title>Error: Sign in – CliniConnects</title>") {
			t.Error("the title does not announce the error")
		}
		if !strings.Contains(res.body, `<p class="alert" id="form-error" role="alert">The email or password is incorrect.</p>`) {
			t.Errorf("no error message:\n%s", res.body)
		}
		email, pw := tag(res.body, "input", `id="email"`), tag(res.body, "input", `id="password"`)
		if !strings.Contains(email, `value="`+userEmail+`"`) || strings.Contains(pw, "value=") {
			t.Errorf("email must be kept, the password never echoed:\n%s\n%s", email, pw)
		}
		if !strings.Contains(pw, `aria-describedby="form-error"`) || !hasAutofocus(pw) {
			t.Errorf("password input must point at the error and take focus: %s", pw)
		}
		if e.loadRequest(r.ID).Done || e.sessionCookie() != "" || e.callbackCount() != 0 {
			t.Error("a failed sign-in changed state")
		}
	})
}

func TestUnknownEmailLooksLikeWrongPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		const unknown = "nobody@example.com"
		known := e.postLogin(r.ID, userEmail, "wrong password")
		missing := e.postLogin(r.ID, unknown, "wrong password")
		if known.status != missing.status {
			t.Errorf("status %d for a known email, %d for an unknown one", known.status, missing.status)
		}
		a := strings.ReplaceAll(known.body, userEmail, "EMAIL")
		b := strings.ReplaceAll(missing.body, unknown, "EMAIL")
		if a != b {
			t.Errorf("bodies differ:\n--- known\n%s\n--- unknown\n%s", a, b)
		}
	})
}

func TestEmptyFields(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		res := e.postLogin(r.ID, "  ", "")
		if res.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", res.status)
		}
		email, pw := tag(res.body, "input", `id="email"`), tag(res.body, "input", `id="password"`)
		for _, want := range []string{`aria-invalid="true"`, `aria-describedby="email-error"`, " autofocus"} {
			if !strings.Contains(email, want) {
				t.Errorf("email input lacks %s: %s", want, email)
			}
		}
		if !strings.Contains(pw, `aria-describedby="password-error"`) || hasAutofocus(pw) {
			t.Errorf("password input: %s", pw)
		}
		for _, want := range []string{`id="email-error">Enter your email address.<`, `id="password-error">Enter your password.<`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		th, _ := st.GetThrottle(context.Background(), signin.SourceKey("127.0.0.1"))
		if th.Failures != 0 {
			t.Error("an empty form counted as a failed sign-in")
		}
	})
}

func TestLockMessage(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		for i := 1; i <= 4; i++ {
			if res := e.postLogin(r.ID, userEmail, "wrong"); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d", i, res.status)
			}
		}
		for _, pw := range []string{"wrong", userPassword} {
			res := e.postLogin(r.ID, userEmail, pw)
			if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "900" {
				t.Fatalf("status %d Retry-After %q, want 429 and 900", res.status, res.header.Get("Retry-After"))
			}
			if !strings.Contains(res.body, "Too many attempts. Try again in 15 minutes.") {
				t.Errorf("no lock message:\n%s", res.body)
			}
		}
		if e.loadRequest(r.ID).Done || e.sessionCookie() != "" {
			t.Error("signed in while locked")
		}
	})
}

func TestSuccessCompletesTheRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		res := e.postLogin(r.ID, "  GRACE@example.com ", userPassword)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != callbackBase+r.ID {
			t.Fatalf("status %d Location %q, want 303 to the callback", res.status, res.header.Get("Location"))
		}
		got := e.loadRequest(r.ID)
		cookie := e.sessionCookie()
		if !got.Done || got.UserID != e.user.ID || !slices.Equal(got.AMR, []string{"pwd"}) ||
			!got.AuthTime.Equal(e.clock.Now().Truncate(time.Second)) || got.SessionID != session.HashID(cookie) || cookie == "" {
			t.Errorf("completed request = %+v (cookie %q)", got, cookie)
		}
		// The finished request cannot be used again.
		if res := e.getLogin(r.ID); res.status != http.StatusBadRequest || !strings.Contains(res.body, "This sign-in link has expired.") {
			t.Errorf("revisiting a completed request: %d", res.status)
		}
	})
}

func TestSingleSignOn(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		first := e.signIn()
		e.clock.Advance(10 * time.Minute)

		t.Run("second request completes without the form", func(t *testing.T) {
			r := e.authRequest(e.client)
			res := e.getLogin(r.ID)
			if res.status != http.StatusFound || res.header.Get("Location") != callbackBase+r.ID {
				t.Fatalf("status %d Location %q, want 302 to the callback", res.status, res.header.Get("Location"))
			}
			got := e.loadRequest(r.ID)
			if !got.Done || got.UserID != e.user.ID || !got.AuthTime.Equal(first.AuthTime) || got.SessionID != first.SessionID || !slices.Equal(got.AMR, []string{"pwd"}) {
				t.Errorf("SSO completion = %+v, want the first sign-in's auth_time and session", got)
			}
		})
		t.Run("prompt=none with a session", func(t *testing.T) {
			r := e.authRequest(e.client, withPrompt("none"))
			if res := e.getLogin(r.ID); res.status != http.StatusFound || !e.loadRequest(r.ID).Done {
				t.Fatalf("status %d, want a silent completion", res.status)
			}
		})
		t.Run("prompt=none with a hint for the signed-in user", func(t *testing.T) {
			r := e.authRequest(e.client, withPrompt("none"), withHintSubject(e.user.ID))
			if res := e.getLogin(r.ID); res.status != http.StatusFound || !e.loadRequest(r.ID).Done {
				t.Fatalf("status %d, want a silent completion", res.status)
			}
		})
		t.Run("prompt=none with a hint for another user", func(t *testing.T) {
			r := e.authRequest(e.client, withPrompt("none"), withHintSubject("someone-else"))
			e.getLogin(r.ID)
			if f, _ := e.lastFailure(); f.req.ID != r.ID || oidcErrorType(f.err) != "login_required" || e.loadRequest(r.ID).Done {
				t.Fatalf("last Fail %+v, want login_required and no completion", f)
			}
		})
		t.Run("max_age not exceeded", func(t *testing.T) {
			r := e.authRequest(e.client, withMaxAge(time.Hour))
			if res := e.getLogin(r.ID); res.status != http.StatusFound {
				t.Fatalf("status %d, want 302", res.status)
			}
		})
		t.Run("max_age exceeded shows the form", func(t *testing.T) {
			r := e.authRequest(e.client, withMaxAge(5*time.Minute))
			if res := e.getLogin(r.ID); res.status != http.StatusOK || tag(res.body, "input", `id="password"`) == "" {
				t.Fatalf("status %d, want the form", res.status)
			}
		})
		t.Run("prompt=none with max_age exceeded", func(t *testing.T) {
			r := e.authRequest(e.client, withPrompt("none"), withMaxAge(time.Minute))
			e.getLogin(r.ID)
			if f, _ := e.lastFailure(); f.req.ID != r.ID || oidcErrorType(f.err) != "login_required" {
				t.Fatalf("last Fail %+v, want login_required for this request", f)
			}
		})
		t.Run("prompt=login shows the form and replaces the session", func(t *testing.T) {
			r := e.authRequest(e.client, withPrompt("login"))
			if res := e.getLogin(r.ID); res.status != http.StatusOK || tag(res.body, "input", `id="password"`) == "" {
				t.Fatalf("status %d, want the form", res.status)
			}
			old := e.sessionCookie()
			if res := e.postLogin(r.ID, userEmail, userPassword); res.status != http.StatusSeeOther {
				t.Fatalf("POST status %d", res.status)
			}
			got := e.loadRequest(r.ID)
			if !got.AuthTime.After(first.AuthTime) || got.SessionID == first.SessionID || e.sessionCookie() == old {
				t.Errorf("prompt=login: auth_time %v (first %v), session changed %v", got.AuthTime, first.AuthTime, got.SessionID != first.SessionID)
			}
			if _, err := st.GetSession(context.Background(), session.HashID(old), e.clock.Now()); err == nil {
				t.Error("the replaced session is still valid")
			}
		})
	})
}

func TestPromptNoneWithoutSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client, withPrompt("none"))
		res := e.getLogin(r.ID)
		f, n := e.lastFailure()
		if n != 1 || oidcErrorType(f.err) != "login_required" || f.req.ID != r.ID || res.status != http.StatusFound {
			t.Fatalf("Fail calls %d, last %v (status %d); want login_required", n, f.err, res.status)
		}
		if e.loadRequest(r.ID).Done {
			t.Error("request completed")
		}
	})
}

func TestSessionOfDisabledUserIsIgnored(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		e.signIn()
		if _, err := st.UpdateUser(context.Background(), e.user.ID, 0, func(u *storage.User) error {
			u.Status = storage.StatusDisabled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r := e.authRequest(e.client)
		if res := e.getLogin(r.ID); res.status != http.StatusOK || e.loadRequest(r.ID).Done {
			t.Fatalf("status %d: a disabled user's session must not sign in", res.status)
		}
	})
}

func TestClientThatDoesNotAdmitTheUser(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		mobile := e.createClient("mobile", "Clinician Mobile", []storage.UserType{storage.UserTypeClinician})

		t.Run("after the form", func(t *testing.T) {
			r := e.authRequest(mobile)
			res := e.postLogin(r.ID, userEmail, userPassword)
			f, n := e.lastFailure()
			if n != 1 || oidcErrorType(f.err) != "access_denied" || res.status != http.StatusFound {
				t.Fatalf("Fail calls %d, last %v; want access_denied", n, f.err)
			}
			if e.loadRequest(r.ID).Done {
				t.Error("request completed for a client that does not admit the user")
			}
			if e.sessionCookie() == "" {
				t.Error("the user authenticated: the SSO session should exist")
			}
		})
		t.Run("with a session", func(t *testing.T) {
			r := e.authRequest(mobile)
			e.getLogin(r.ID)
			f, n := e.lastFailure()
			if n != 2 || oidcErrorType(f.err) != "access_denied" || e.loadRequest(r.ID).Done {
				t.Fatalf("Fail calls %d, last %v; want access_denied", n, f.err)
			}
		})
	})
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		r := e.authRequest(e.client)
		for name, hdr := range map[string][]string{
			"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
			"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
			"foreign Origin":            {"Origin", "https://evil.example"},
		} {
			for _, pw := range []string{userPassword, "wrong"} {
				res := e.postLogin(r.ID, userEmail, pw, hdr...)
				if res.status != http.StatusForbidden || !strings.Contains(res.body, "This form was sent from another site") {
					t.Errorf("%s: status %d, want 403", name, res.status)
				}
			}
		}
		ctx := context.Background()
		for _, key := range []string{signin.AccountKey(userEmail), signin.SourceKey("127.0.0.1")} {
			if th, _ := st.GetThrottle(ctx, key); th.Failures != 0 {
				t.Errorf("%s counted %d failures", key, th.Failures)
			}
		}
		if e.loadRequest(r.ID).Done || e.sessionCookie() != "" || e.callbackCount() != 0 {
			t.Error("a refused request changed state")
		}
		// Arriving from the client's site is a cross-site navigation: fine.
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login?authRequestID="+r.ID, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res := e.do(req); res.status != http.StatusOK {
			t.Errorf("cross-site GET: status %d, want the form", res.status)
		}
		// And a same-origin POST works.
		if res := e.postLogin(r.ID, userEmail, userPassword, "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL); res.status != http.StatusSeeOther {
			t.Errorf("same-origin POST: status %d", res.status)
		}
	})
}

func TestBadLinks(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		expired := e.authRequest(e.client, func(r *storage.AuthRequest) { r.ExpiresAt = time.Now().Add(-time.Minute) })
		for name, path := range map[string]string{
			"missing id": "/login",
			"unknown id": "/login?authRequestID=doesnotexist",
			"expired":    "/login?authRequestID=" + expired.ID,
			"huge id":    "/login?authRequestID=" + strings.Repeat("a", 1000),
		} {
			res := e.get(path)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, "This sign-in link has expired. Go back to the application and start again.") {
				t.Errorf("%s: status %d\n%s", name, res.status, res.body)
			}
			assertSafePage(t, res)
		}
		if res := e.postLogin(expired.ID, userEmail, userPassword); res.status != http.StatusBadRequest || e.sessionCookie() != "" {
			t.Errorf("POST for an expired request: status %d", res.status)
		}
	})
}

func TestOtherPages(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		res := e.get("/logged-out")
		if res.status != http.StatusOK || !strings.Contains(res.body, "You have signed out") {
			t.Errorf("/logged-out: %d", res.status)
		}
		assertSafePage(t, res)

		css := e.get("/static/style.css")
		if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, ".card") {
			t.Errorf("/static/style.css: %d %q", css.status, css.header.Get("Content-Type"))
		}
		for _, p := range []string{"/static/", "/static/nope.css", "/static/style.css/"} {
			if res := e.get(p); res.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, res.status)
			}
		}
	})
}
