package oidcprovider

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// refreshRequest is a refresh_token grant: the stored token it presents
// and the scopes the new access token gets.
type refreshRequest struct {
	t      storage.RefreshToken
	scopes []string // may be narrowed by the request; t.Scopes stays the grant
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// refreshTokenBytes is the entropy of a refresh token (256 bits).
const refreshTokenBytes = 32

// refreshIDPrefix marks a token id handed to op by GetRefreshTokenInfo, so
// RevokeToken can tell it from an access token id (a jti).
const refreshIDPrefix = "rt:"

// errGrantUnusable is the one message every refused grant gets; the log
// says why.
func errGrantUnusable() *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("the grant is invalid, expired or revoked")
}

// CreateAccessToken records an access token for a code exchange without
// offline_access or a client_credentials grant, and returns its jti.
func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		if err := s.checkUser(ctx, r.r.UserID, r.r.ClientID); err != nil {
			return "", time.Time{}, err
		}
		if err := s.redeem(ctx, r); err != nil {
			return "", time.Time{}, err
		}
		jti, exp, err := s.issueAccessToken(ctx, r.r.FamilyID, r.r.ClientID, r.r.UserID, r.GetAudience(), r.r.Scopes)
		s.observe.issued(oidc.GrantTypeCode, false, err)
		return jti, exp, err
	case *serviceRequest:
		jti, exp, err := s.issueAccessToken(ctx, "", r.clientID, r.clientID, r.GetAudience(), r.scopes)
		s.observe.issued(oidc.GrantTypeClientCredentials, false, err)
		return jti, exp, err
	default:
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
}

// CreateAccessAndRefreshTokens issues the first refresh token of a family
// (code exchange with offline_access) or rotates one (refresh grant), and
// records the access token that goes with it.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	now := s.now().UTC()
	raw := randomToken(refreshTokenBytes)
	switch r := req.(type) {
	case *authRequest:
		if err := s.checkUser(ctx, r.r.UserID, r.r.ClientID); err != nil {
			return "", "", time.Time{}, err
		}
		if err := s.redeem(ctx, r); err != nil {
			return "", "", time.Time{}, err
		}
		t := storage.RefreshToken{
			IDHash: hashToken(raw), FamilyID: r.r.FamilyID, ClientID: r.r.ClientID, UserID: r.r.UserID,
			Scopes: r.r.Scopes, Audience: r.GetAudience(), AuthTime: r.r.AuthTime, AMR: r.r.AMR,
			CreatedAt: now, ExpiresAt: now.Add(s.refreshTokenTTL),
			Device: s.sessionDevice(ctx, r.r.SessionID, now),
		}
		if err := s.store.CreateRefreshToken(ctx, t); err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		jti, exp, err := s.issueAccessToken(ctx, t.FamilyID, t.ClientID, t.UserID, t.Audience, r.r.Scopes)
		s.observe.issued(oidc.GrantTypeCode, true, err)
		return jti, raw, exp, err
	case *refreshRequest:
		old := r.t
		next := old
		next.IDHash, next.CreatedAt, next.ExpiresAt = hashToken(raw), now, now.Add(s.refreshTokenTTL)
		next.RotatedAt, next.RevokedAt = time.Time{}, time.Time{}
		// The access token is stored with the rotation, in one round
		// trip on PostgreSQL; the store sets its family.
		at := s.newAccessToken(old.FamilyID, old.ClientID, old.UserID, old.Audience, r.scopes)
		err := s.store.RotateRefreshToken(ctx, hashToken(current), next, at, now, s.refreshReuseWindow)
		if errors.Is(err, storage.ErrReused) || errors.Is(err, storage.ErrNotFound) {
			if errors.Is(err, storage.ErrReused) {
				s.observe.revoked("reuse")
			}
			s.logger.WarnContext(ctx, "refresh token presented again; its family was revoked", "token", old)
			return "", "", time.Time{}, errGrantUnusable()
		}
		if err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		if !old.RotatedAt.IsZero() {
			s.observe.retried() // rotated before: a retry within the window
		}
		s.observe.issued(oidc.GrantTypeRefreshToken, true, nil)
		return at.ID, raw, at.ExpiresAt, nil
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
}

// issueAccessToken records a new access token and returns its jti.
func (s *Storage) issueAccessToken(ctx context.Context, family, clientID, subject string, aud, scopes []string) (string, time.Time, error) {
	t := s.newAccessToken(family, clientID, subject, aud, scopes)
	if err := s.store.CreateAccessToken(ctx, t); err != nil {
		return "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return t.ID, t.ExpiresAt, nil
}

// newAccessToken is the record of an access token issued now, with a new
// random jti.
func (s *Storage) newAccessToken(family, clientID, subject string, aud, scopes []string) storage.AccessToken {
	now := s.now().UTC()
	return storage.AccessToken{
		ID: randomToken(16), FamilyID: family, ClientID: clientID, Subject: subject,
		Audience: aud, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(s.accessTokenTTL),
	}
}

// checkUser refuses tokens for users who are no longer active or whose
// roles the client no longer admits.
func (s *Storage) checkUser(ctx context.Context, userID, clientID string) error {
	u, err := s.user(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		s.logger.InfoContext(ctx, "grant refused: user gone", "client", clientID)
		return errGrantUnusable()
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if u.Status != storage.StatusActive {
		s.logger.InfoContext(ctx, "grant refused: user not active", "user", u, "client", clientID)
		return errGrantUnusable()
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return oidc.ErrInvalidClient().WithParent(err)
	}
	if !c.Admits(u) {
		s.logger.InfoContext(ctx, "grant refused: client does not admit user", "user", u, "client", clientID)
		return errGrantUnusable()
	}
	return nil
}

// TokenRequestByRefreshToken looks a refresh token up by hash. A rotated
// token presented again revokes its whole family (reuse detection) —
// unless it was rotated within the reuse window: then it may be a client
// retrying a refresh whose answer it lost, and RotateRefreshToken decides
// atomically whether it is (its successor unused) or not.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, raw string) (op.RefreshTokenRequest, error) {
	now := s.now().UTC()
	// The token and its user in one read; checkUser below and the claims
	// of this token response take the user from the request's slot.
	t, u, err := s.store.GetRefreshTokenUser(ctx, hashToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errGrantUnusable()
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	keepUser(ctx, u)
	switch {
	case !t.RevokedAt.IsZero():
		s.logger.InfoContext(ctx, "refresh refused: token revoked", "token", t)
		return nil, errGrantUnusable()
	case !t.RotatedAt.IsZero() && now.After(t.RotatedAt.Add(s.refreshReuseWindow)):
		if err := s.store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		s.observe.revoked("reuse")
		s.logger.WarnContext(ctx, "rotated refresh token presented again; family revoked", "token", t)
		return nil, errGrantUnusable()
	case !now.Before(t.ExpiresAt):
		return nil, errGrantUnusable()
	}
	if err := s.checkUser(ctx, t.UserID, t.ClientID); err != nil {
		return nil, err
	}
	// checkUser read the client for this request; this takes it from there.
	if c, err := s.client(ctx, t.ClientID); err == nil && !fitsClient(c, t.AMR) {
		s.logger.InfoContext(ctx, "refresh refused: the client's sign-in policy changed since the sign-in", "token", t, "client", c.ID)
		return nil, errGrantUnusable()
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// fitsClient reports whether a grant signed in with amr still fits client
// c's sign-in policy: its sign-in method (a phone client's grants come from
// number and PIN, "pin"; an email client's from the password, "pwd", or
// from before amr was recorded) and, when it requires them, two factors
// ("mfa"). An administrator's change of either ends the grants it no longer
// fits at their next refresh, and the user signs in again under the new
// policy.
func fitsClient(c storage.Client, amr []string) bool {
	if c.PhoneSignIn() {
		return slices.Contains(amr, "pin")
	}
	if len(amr) > 0 && !slices.Contains(amr, "pwd") {
		return false
	}
	return !c.RequireMFA || slices.Contains(amr, "mfa")
}

// GetRefreshTokenInfo serves revocation: it finds a refresh token by hash.
// Anything else is op.ErrInvalidRefreshToken, so op tries it as an access
// token next.
func (s *Storage) GetRefreshTokenInfo(ctx context.Context, _ string, raw string) (string, string, error) {
	t, err := s.store.GetRefreshToken(ctx, hashToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return t.UserID, refreshIDPrefix + t.IDHash, nil
}

// RevokeToken revokes a refresh token (its whole family: RFC 7009 asks to
// end the access tokens of the same grant too) or an access token (its
// jti). Tokens of another client are refused; unknown tokens are a success.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.now().UTC()
	if h, ok := strings.CutPrefix(tokenOrID, refreshIDPrefix); ok && userID != "" {
		return s.revokeRefresh(ctx, h, clientID, now)
	}
	at, err := s.store.GetAccessToken(ctx, tokenOrID)
	switch {
	case err == nil:
		if at.ClientID != clientID {
			return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
		}
		if err := s.store.RevokeAccessToken(ctx, at.ID, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	case !errors.Is(err, storage.ErrNotFound):
		return oidc.ErrServerError().WithParent(err)
	}
	// A refresh token sent with token_type_hint=access_token.
	return s.revokeRefresh(ctx, hashToken(tokenOrID), clientID, now)
}

func (s *Storage) revokeRefresh(ctx context.Context, hash, clientID string, now time.Time) *oidc.Error {
	t, err := s.store.GetRefreshToken(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
	}
	if err := s.store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	s.observe.revoked("revoke")
	return nil
}

// TerminateSession is op's hook for end_session. Our end_session handler
// (logout.go) ends the browser session itself and does not call op's, so
// there is nothing to do here; refresh tokens survive logout by design
// (offline_access), sign-out-everywhere revokes them.
func (s *Storage) TerminateSession(context.Context, string, string) error { return nil }

// keepUser puts u, read with its token, in the request's token slot,
// where Storage.user finds it; a zero u (the user is gone) leaves the
// slot as it is.
func keepUser(ctx context.Context, u storage.User) {
	if slot, _ := ctx.Value(tokenSlotKey{}).(*tokenSlot); slot != nil && u.ID != "" {
		slot.user = &u
	}
}
