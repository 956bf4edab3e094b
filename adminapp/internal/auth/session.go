package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ErrSignedOut is returned by AccessToken once the session has been signed
// out, or when the provider no longer refreshes it (the user was disabled,
// the refresh token revoked or expired): the user must sign in again.
var ErrSignedOut = errors.New("the session has ended; sign in again")

// refreshMargin is how long before its expiry an access token is
// replaced; short-lived tokens are replaced when a quarter of their
// lifetime is left.
const refreshMargin = time.Minute

// Claims are what the app shows of the signed-in user.
type Claims struct {
	Subject string `json:"sub"`
	Email   string `json:"email"`
	Name    string `json:"name"`
}

// Session holds one signed-in user's tokens, in memory only. It is safe
// for concurrent use.
type Session struct {
	p      *Provider
	conf   oauth2.Config
	now    func() time.Time
	claims Claims

	mu      sync.Mutex
	tok     *oauth2.Token // nil once signed out
	idToken string        // raw, the end_session hint
	margin  time.Duration // of the current access token
}

func newSession(ctx context.Context, p *Provider, conf oauth2.Config, tok *oauth2.Token, nonce string, now func() time.Time) (*Session, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("auth: the token response has no ID token")
	}
	idt, err := p.verifier(now).Verify(p.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("auth: ID token: %w", err)
	}
	if err := checkNonce(idt, nonce); err != nil {
		return nil, err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("auth: ID token: %w", err)
		}
	}
	s := &Session{p: p, conf: conf, now: now}
	if err := idt.Claims(&s.claims); err != nil {
		return nil, fmt.Errorf("auth: ID token claims: %w", err)
	}
	// The provider puts the profile in userinfo, not in the ID token.
	ui, err := p.oidc.UserInfo(p.ctx(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("auth: userinfo: %w", err)
	}
	if ui.Subject != idt.Subject {
		return nil, errors.New("auth: userinfo names another user than the ID token")
	}
	if err := ui.Claims(&s.claims); err != nil {
		return nil, fmt.Errorf("auth: userinfo claims: %w", err)
	}
	s.set(tok, raw)
	return s, nil
}

// checkNonce ties the ID token to this sign-in: a token minted for another
// authorization request (a replayed or injected code) is refused.
func checkNonce(idt *oidc.IDToken, nonce string) error {
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return ErrNonce
	}
	return nil
}

// set stores a new token (s.mu held or s not yet shared).
func (s *Session) set(tok *oauth2.Token, idToken string) {
	if tok.RefreshToken == "" && s.tok != nil {
		tok.RefreshToken = s.tok.RefreshToken // the provider did not rotate it
	}
	s.tok = tok
	if idToken != "" {
		s.idToken = idToken
	}
	s.margin = refreshMargin
	if life := tok.Expiry.Sub(s.now()); life > 0 && life/4 < s.margin {
		s.margin = life / 4
	}
}

// Claims returns the signed-in user's ID token claims.
func (s *Session) Claims() Claims { return s.claims }

// Issuer is the provider the session belongs to.
func (s *Session) Issuer() string { return s.p.Issuer }

// HTTPClient is the client for the provider (and its admin API).
func (s *Session) HTTPClient() *http.Client { return s.p.http }

// AccessToken returns an access token valid for at least the refresh
// margin, refreshing it first when needed. It has the signature of
// adminapi.TokenSource.
func (s *Session) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return "", ErrSignedOut
	}
	if s.tok.Expiry.IsZero() || s.now().Add(s.margin).Before(s.tok.Expiry) {
		return s.tok.AccessToken, nil
	}
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	return s.tok.AccessToken, nil
}

// refresh redeems the refresh token (s.mu held). A refusal by the
// provider ends the session; a network error does not.
func (s *Session) refresh(ctx context.Context) error {
	if s.tok.RefreshToken == "" {
		s.forget()
		return ErrSignedOut
	}
	tok, err := s.conf.TokenSource(s.p.ctx(ctx), &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500:
		s.forget()
		return fmt.Errorf("%w (%s)", ErrSignedOut, re.ErrorCode)
	case err != nil:
		return fmt.Errorf("auth: refreshing the access token: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw != "" {
		// A refreshed ID token carries no nonce; its signature, issuer,
		// audience and subject must still hold.
		idt, err := s.p.verifier(s.now).Verify(s.p.ctx(ctx), raw)
		if err != nil {
			return fmt.Errorf("auth: refreshed ID token: %w", err)
		}
		if idt.Subject != s.claims.Subject {
			s.forget()
			return fmt.Errorf("%w (the refreshed ID token names another user)", ErrSignedOut)
		}
	}
	s.set(tok, raw)
	return nil
}

// SignedIn reports whether the session still holds tokens.
func (s *Session) SignedIn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok != nil
}

// forget drops every token (s.mu held).
func (s *Session) forget() {
	s.tok = nil
	s.idToken = ""
}

// SignOut ends the session: the refresh token is revoked at the provider
// (RFC 7009), the browser is sent to end_session with the ID token as hint
// (which ends the provider's browser session), and every token is
// forgotten. Tokens are forgotten even when a step fails; the first error
// is returned.
func (s *Session) SignOut(ctx context.Context, openBrowser func(*url.URL) error) error {
	s.mu.Lock()
	tok, idToken := s.tok, s.idToken
	s.tok, s.idToken = nil, "" // forgotten first, whatever happens next
	s.mu.Unlock()
	if tok == nil {
		return nil
	}
	var errs []error
	if tok.RefreshToken != "" && s.p.revocation != "" {
		errs = append(errs, s.revoke(ctx, tok.RefreshToken, "refresh_token"))
	}
	if s.p.endSession != "" && openBrowser != nil {
		u, err := url.Parse(s.p.endSession)
		if err == nil {
			q := u.Query()
			q.Set("client_id", ClientID)
			if idToken != "" {
				q.Set("id_token_hint", idToken)
			}
			u.RawQuery = q.Encode()
			err = openBrowser(u)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: end_session: %w", err))
		}
	}
	return errors.Join(errs...)
}

// revoke posts token to the revocation endpoint as this public client.
func (s *Session) revoke(ctx context.Context, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.p.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("auth: revocation: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.p.http.Do(req)
	if err != nil {
		return fmt.Errorf("auth: revocation: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("auth: revocation: HTTP %d", resp.StatusCode)
	}
	return nil
}

// LogValue keeps tokens out of every log line.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", s.p.Issuer), slog.String("sub", s.claims.Subject), slog.Bool("signed_in", s.SignedIn()))
}
