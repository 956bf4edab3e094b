package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// CallbackPath is the path of the loopback redirect URI. The provider
// matches a native client's loopback redirect ignoring the port (RFC 8252
// §7.3), so any free port works.
const CallbackPath = "/callback"

// Options tune one sign-in.
type Options struct {
	// OpenBrowser opens u in the system browser (required).
	OpenBrowser func(u *url.URL) error
	// ShowURL, when set, is called with the authorization URL before the
	// browser opens, so the UI can show it with a copy button.
	ShowURL func(u *url.URL)
	// Now is the clock for ID token expiry and token refresh; nil means
	// time.Now.
	Now func() time.Time
}

// Errors of SignIn that the UI words for the user.
var (
	// ErrDenied: the provider refused (wrong role for this app, the user
	// cancelled, …). The error wraps the provider's error code.
	ErrDenied = errors.New("the provider did not sign you in")
	// ErrNonce: the ID token does not answer this sign-in.
	ErrNonce = errors.New("the ID token's nonce does not match this sign-in")
)

// SignIn runs one sign-in: it listens on 127.0.0.1 on a free port, opens
// the browser at the provider's authorization endpoint (code, PKCE S256,
// state, nonce), waits for the redirect (or ctx), exchanges the code and
// verifies the ID token. The listener is closed when SignIn returns.
func (p *Provider) SignIn(ctx context.Context, o Options) (*Session, error) {
	if o.OpenBrowser == nil {
		return nil, errors.New("auth: Options.OpenBrowser is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// An IP literal, never "localhost" (RFC 8252 §8.3): nothing else on
	// the machine's network can reach the listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("auth: loopback listener: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	conf := oauth2.Config{
		ClientID:    ClientID,
		Endpoint:    p.oidc.Endpoint(),
		RedirectURL: "http://127.0.0.1:" + strconv.Itoa(port) + CallbackPath,
		Scopes:      Scopes,
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	authURL, err := url.Parse(conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("auth: authorization URL: %w", err)
	}

	cb := newCallback(state)
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ErrServerClosed on shutdown
	defer func() {
		// Let the "return to the app" page go out, then close.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck // best effort; the listener is closed either way
	}()

	if o.ShowURL != nil {
		o.ShowURL(authURL)
	}
	if err := o.OpenBrowser(authURL); err != nil {
		return nil, fmt.Errorf("auth: opening the browser: %w", err)
	}

	var res callbackResult
	select {
	case res = <-cb.result:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := conf.Exchange(p.ctx(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("auth: code exchange: %w", err)
	}
	s, err := newSession(ctx, p, conf, tok, nonce, o.Now)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// callback serves the loopback redirect: the first request with the right
// state ends the sign-in; others are answered 400 and ignored, so a stray
// or forged request cannot end it.
type callback struct {
	state  string
	result chan callbackResult // buffered 1; written once
}

type callbackResult struct {
	code string
	err  error
}

func newCallback(state string) *callback {
	return &callback{state: state, result: make(chan callbackResult, 1)}
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet || r.URL.Path != CallbackPath {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) != 1 {
		writePage(w, http.StatusBadRequest, pageWrongState)
		return
	}
	res := callbackResult{code: q.Get("code")}
	switch {
	case q.Get("error") != "":
		res = callbackResult{err: fmt.Errorf("%w (%s)", ErrDenied, q.Get("error"))}
	case res.code == "":
		res = callbackResult{err: fmt.Errorf("%w (no code)", ErrDenied)}
	}
	select {
	case c.result <- res:
	default:
		writePage(w, http.StatusBadRequest, pageUsed)
		return
	}
	if res.err != nil {
		writePage(w, http.StatusOK, pageDenied)
		return
	}
	writePage(w, http.StatusOK, pageDone)
}

// randomString is 256 bits from crypto/rand, base64url.
func randomString() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics on an unusable source)
	return b
}
