package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/adminapp/internal/idptest"
	"github.com/cliniconnects/identity/shared/adminapi"
)

func discover(t *testing.T) *Provider {
	t.Helper()
	p, err := Discover(context.Background(), idp.Issuer+"/", nil)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return p
}

func signIn(t *testing.T, p *Provider, b *idptest.Browser, now func() time.Time) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := p.SignIn(ctx, Options{OpenBrowser: b.Open, Now: now})
	if err != nil {
		t.Fatalf("SignIn: %v (last page %v %d)", err, b.Last().URL, b.Last().Status)
	}
	return s
}

func me(t *testing.T, s *Session) adminapi.Me {
	t.Helper()
	m, err := adminapi.NewClient(s.Issuer(), s.HTTPClient(), s.AccessToken).Me(context.Background())
	if err != nil {
		t.Fatalf("GET /me with the session's token: %v", err)
	}
	return m
}

// The sign-in is RFC 8252's: loopback IP redirect on an ephemeral port,
// code + PKCE S256, state and nonce; the listener is gone afterwards and
// the token works on the admin API.
func TestSignInLoopbackPKCE(t *testing.T) {
	p := discover(t)
	b := idptest.NewBrowser(adminEmail, adminPassword)
	var shown *url.URL
	var otherLoopback error
	open := func(u *url.URL) error {
		// The listener is bound to 127.0.0.1 only: another loopback
		// address (all of 127/8 reaches lo on Linux) is refused.
		redirect, _ := url.Parse(u.Query().Get("redirect_uri"))
		c, err := net.DialTimeout("tcp", "127.0.0.2:"+redirect.Port(), time.Second)
		if err == nil {
			c.Close()
			otherLoopback = errors.New("the loopback listener accepts connections on 127.0.0.2")
		}
		return b.Open(u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := p.SignIn(ctx, Options{OpenBrowser: open, ShowURL: func(u *url.URL) { shown = u }})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if got := s.Claims().Email; got != adminEmail {
		t.Errorf("claims email = %q, want %q", got, adminEmail)
	}
	if otherLoopback != nil {
		t.Error(otherLoopback)
	}
	opened := b.Opened()
	if len(opened) != 1 || shown == nil || opened[0].String() != shown.String() {
		t.Fatalf("browser opened %v, UI shown %v; want the same one URL", opened, shown)
	}
	q := opened[0].Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"response_type=code":           q.Get("response_type") == "code",
		"client_id":                    q.Get("client_id") == adminapi.DesktopClientID,
		"code_challenge_method=S256":   q.Get("code_challenge_method") == "S256",
		"code_challenge (43 chars)":    len(q.Get("code_challenge")) == 43,
		"state (256 bits)":             len(q.Get("state")) >= 43,
		"nonce (256 bits)":             len(q.Get("nonce")) >= 43,
		"redirect host 127.0.0.1":      redirect.Hostname() == "127.0.0.1",
		"redirect path /callback":      redirect.Path == CallbackPath,
		"redirect on an explicit port": redirect.Port() != "" && redirect.Port() != "0",
		"scope has admin offline_access": strings.Contains(q.Get("scope"), "admin") &&
			strings.Contains(q.Get("scope"), "offline_access") && strings.Contains(q.Get("scope"), "openid"),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("authorization request: %s does not hold (%s)", what, opened[0])
		}
	}
	if !strings.Contains(b.Last().Body, "return to the app") {
		t.Errorf("the callback page says %q, want it to say to return to the app", b.Last().Body)
	}
	// The one-shot listener is closed.
	if c, err := net.DialTimeout("tcp", redirect.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("the loopback listener %s still accepts connections after sign-in", redirect.Host)
	}
	if m := me(t, s); m.User.Email != adminEmail {
		t.Errorf("GET /me = %q, want %q", m.User.Email, adminEmail)
	}
}

// A request to the loopback listener with another state is answered 400
// and does not end the sign-in: only the provider's redirect does.
func TestCallbackRefusesWrongState(t *testing.T) {
	p := discover(t)
	b := idptest.NewBrowser(adminEmail, adminPassword)
	var forged int
	open := func(u *url.URL) error {
		cb := u.Query().Get("redirect_uri") + "?code=forged&state=" + url.QueryEscape("not-"+u.Query().Get("state"))
		resp, err := http.Get(cb)
		if err != nil {
			return err
		}
		resp.Body.Close()
		forged = resp.StatusCode
		return b.Open(u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := p.SignIn(ctx, Options{OpenBrowser: open})
	if err != nil {
		t.Fatalf("SignIn after a forged callback: %v (the forged request must not end it)", err)
	}
	if forged != http.StatusBadRequest {
		t.Errorf("forged callback answered %d, want 400", forged)
	}
	if s.Claims().Email != adminEmail {
		t.Errorf("signed in as %q", s.Claims().Email)
	}
}

// A forged callback alone never yields a session: SignIn keeps waiting.
func TestCallbackWithWrongStateOnlyNeverSignsIn(t *testing.T) {
	p := discover(t)
	open := func(u *url.URL) error {
		resp, err := http.Get(u.Query().Get("redirect_uri") + "?code=forged&state=guess")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if s, err := p.SignIn(ctx, Options{OpenBrowser: open}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SignIn = %v, %v; want it still waiting (deadline exceeded)", s, err)
	}
}

// The ID token must carry this sign-in's nonce.
func TestCheckNonce(t *testing.T) {
	p := discover(t)
	s := signIn(t, p, idptest.NewBrowser(adminEmail, adminPassword), nil)
	s.mu.Lock()
	raw := s.idToken
	s.mu.Unlock()
	idt, err := p.verifier(time.Now).Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNonce(idt, idt.Nonce); err != nil {
		t.Errorf("checkNonce(own nonce) = %v", err)
	}
	for _, other := range []string{"", "x" + idt.Nonce, idt.Nonce[1:]} {
		if err := checkNonce(idt, other); !errors.Is(err, ErrNonce) {
			t.Errorf("checkNonce(%q) = %v, want ErrNonce", other, err)
		}
	}
}

// The provider admits staff roles only to this client: a user without a
// role gets access_denied at the callback, and no session.
func TestUserWithoutRoleIsDenied(t *testing.T) {
	p := discover(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := p.SignIn(ctx, Options{OpenBrowser: idptest.NewBrowser(plainEmail, plainPassword).Open})
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("SignIn as an employee without a role = %v, want ErrDenied", err)
	}
}

// An access token close to its expiry is replaced by a refreshed one
// before it is used.
func TestAccessTokenRefreshedBeforeExpiry(t *testing.T) {
	p := discover(t)
	var shift time.Duration
	now := func() time.Time { return time.Now().Add(shift) }
	s := signIn(t, p, idptest.NewBrowser(adminEmail, adminPassword), now)
	first, err := s.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.AccessToken(context.Background()); again != first {
		t.Fatal("a fresh access token was replaced")
	}
	s.mu.Lock()
	left := time.Until(s.tok.Expiry)
	s.mu.Unlock()
	shift = left - 30*time.Second // inside the one-minute margin, not yet expired
	second, err := s.AccessToken(context.Background())
	if err != nil {
		t.Fatalf("AccessToken near expiry: %v", err)
	}
	if second == first {
		t.Fatal("the access token was not refreshed inside the margin before expiry")
	}
	shift = 0
	if m := me(t, s); m.User.Email != adminEmail {
		t.Errorf("GET /me with the refreshed token = %q", m.User.Email)
	}
}

// Sign out revokes the refresh token, ends the provider's browser session
// through end_session, and forgets every token.
func TestSignOut(t *testing.T) {
	p := discover(t)
	b := idptest.NewBrowser(adminEmail, adminPassword)
	s := signIn(t, p, b, nil)
	s.mu.Lock()
	refresh := s.tok.RefreshToken
	s.mu.Unlock()

	if err := s.SignOut(context.Background(), b.Open); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if _, err := s.AccessToken(context.Background()); !errors.Is(err, ErrSignedOut) {
		t.Errorf("AccessToken after sign-out = %v, want ErrSignedOut", err)
	}
	if s.SignedIn() {
		t.Error("SignedIn after sign-out")
	}
	opened := b.Opened()
	end := opened[len(opened)-1]
	if end.Path != "/end_session" || end.Query().Get("id_token_hint") == "" {
		t.Errorf("sign-out opened %s, want end_session with id_token_hint", end)
	}
	// The refresh token was revoked.
	_, err := s.conf.TokenSource(p.ctx(context.Background()), &oauth2.Token{RefreshToken: refresh}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh with the signed-out refresh token = %v, want invalid_grant", err)
	}
	// The browser session ended: signing in again needs the password (an
	// empty one is refused).
	b.Password = ""
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.SignIn(ctx, Options{OpenBrowser: b.Open}); !errors.Is(err, idptest.ErrRefused) {
		t.Errorf("sign-in after sign-out without a password = %v, want the form refused (no silent SSO)", err)
	}
}

func TestNormalizeIssuer(t *testing.T) {
	for in, want := range map[string]string{
		"https://id.example.com/":     "https://id.example.com",
		" https://id.example.com ":    "https://id.example.com",
		"http://127.0.0.1:8080":       "http://127.0.0.1:8080",
		"http://localhost:8080/":      "http://localhost:8080",
		"http://id.example.com":       "",
		"id.example.com":              "",
		"ftp://id.example.com":        "",
		"https://u:p@id.example.com":  "",
		"https://id.example.com/?x=1": "",
	} {
		got, err := NormalizeIssuer(in)
		if want == "" {
			if !errors.Is(err, ErrIssuer) {
				t.Errorf("NormalizeIssuer(%q) = %q, %v; want ErrIssuer", in, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("NormalizeIssuer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Discovery refuses a document whose issuer is not the URL asked for.
func TestDiscoverChecksIssuer(t *testing.T) {
	other := strings.Replace(idp.Issuer, "127.0.0.1", "localhost", 1)
	if _, err := Discover(context.Background(), other, nil); err == nil {
		t.Fatalf("Discover(%s) accepted a document for %s", other, idp.Issuer)
	}
}

// A second sign-in in the same browser rides on the provider's session:
// no password, but the provider may ask to confirm ("Continue as …")
// before it hands an admin-scoped code to the app; the browser confirms.
func TestSecondSignInUsesTheBrowserSession(t *testing.T) {
	p := discover(t)
	b := idptest.NewBrowser(adminEmail, adminPassword)
	signIn(t, p, b, nil)
	first := len(b.Forms())
	b.Password = "" // the form would refuse now: only the session can sign in
	s := signIn(t, p, b, nil)
	second := b.Forms()[first:]
	if slices.Contains(second, "password") {
		t.Errorf("the second sign-in showed the password form: %v", second)
	}
	t.Logf("forms submitted on the second sign-in: %v", second)
	if s.Claims().Email != adminEmail {
		t.Errorf("second sign-in as %q", s.Claims().Email)
	}
	if m := me(t, s); m.User.Email != adminEmail {
		t.Errorf("GET /me = %q", m.User.Email)
	}
}
