package oidcprovider

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Claim names of our own.
const (
	ClaimRoles    = "roles"
	ClaimUserType = "user_type"
	ClaimScope    = "scope"
)

// SupportedClaims is what discovery lists in claims_supported.
var SupportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "azp",
	"client_id", "jti", ClaimScope,
	"name", "given_name", "family_name", "email", "email_verified",
	"phone_number", "phone_number_verified", ClaimRoles, ClaimUserType,
}

var errTokenInactive = errors.New("token inactive")

// setUserClaims fills the claims that scopes grant about u, reading
// whether u's number was confirmed by SMS when scope phone asks for it.
func (s *Storage) setUserClaims(ctx context.Context, info *oidc.UserInfo, u storage.User, scopes []string) error {
	verified := false
	if u.Phone != "" && slices.Contains(scopes, oidc.ScopePhone) {
		c, err := s.store.GetMobileCredential(ctx, u.ID)
		if err != nil {
			return err
		}
		verified = c.PhoneVerified(u.Phone)
	}
	setUserinfo(info, u, scopes, verified)
	return nil
}

// setUserinfo fills the claims that scopes grant about u; phoneVerified
// says whether u.Phone was confirmed by an SMS code.
func setUserinfo(info *oidc.UserInfo, u storage.User, scopes []string, phoneVerified bool) {
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.Name, info.GivenName, info.FamilyName = u.Name(), u.GivenName, u.FamilyName
			info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
			info.AppendClaims("email_verified", u.EmailVerified) // also when false
		case oidc.ScopePhone:
			if u.Phone != "" {
				info.PhoneNumber = u.Phone
				// True only for a number confirmed by SMS (the mobile
				// credential's), also when false.
				info.AppendClaims("phone_number_verified", phoneVerified)
			}
		case ScopeRoles:
			info.AppendClaims(ClaimRoles, roleNames(u))
			info.AppendClaims(ClaimUserType, string(u.Type))
		}
	}
}

func roleNames(u storage.User) []string {
	out := make([]string, 0, len(u.Roles))
	for _, r := range u.Roles {
		out = append(out, string(r))
	}
	return out
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest sets the ID token's user claims. op passes only
// the scopes that are not answered by userinfo (so roles, not email) when
// an access token is issued alongside.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, err := s.user(ctx, req.GetSubject())
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if err := s.setUserClaims(ctx, info, u, scopes); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// live: the recorded token t is neither revoked nor expired and was
// issued to subject.
func (s *Storage) live(t storage.AccessToken, subject string) bool {
	return t.RevokedAt.IsZero() && s.now().Before(t.ExpiresAt) && t.Subject == subject
}

// isServiceToken: client_credentials tokens have the client as subject
// and no family.
func isServiceToken(t storage.AccessToken) bool { return t.FamilyID == "" && t.Subject == t.ClientID }

// SetUserinfoFromToken answers the userinfo endpoint from a recorded,
// active access token of an active user. Service tokens have no user.
//
// The token and its user are read together (one round trip less); both
// are read on every request, so a revoked token or a disabled user stops
// working at once.
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	if tokenID == "" {
		return errTokenInactive
	}
	t, u, err := s.store.GetAccessTokenUser(ctx, tokenID)
	if errors.Is(err, storage.ErrNotFound) {
		return errTokenInactive
	}
	if err != nil {
		return err
	}
	if !s.live(t, subject) || isServiceToken(t) || u.ID == "" || u.Status != storage.StatusActive {
		return errTokenInactive
	}
	return s.setUserClaims(ctx, info, u, t.Scopes)
}

// SetIntrospectionFromToken answers introspection (Provider.introspect)
// for the verified token tokenID. Any authenticated confidential client
// may introspect (see doc.go). errTokenInactive is {"active":false}; any
// other error means the token could not be checked.
//
// The caller is the client this request authenticated (read once per
// request, see Storage.client); the token, its user and the user's roles
// are read together, as for userinfo, and mostly in the same statement as
// the caller (Storage.accessTokenUser). All of it is read on every
// request, so a revoked token, a disabled user or a removed client takes
// effect at once.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, callerID string) error {
	caller, err := s.client(ctx, callerID)
	if errors.Is(err, storage.ErrNotFound) {
		return errTokenInactive
	}
	if err != nil {
		return err
	}
	if caller.Public || tokenID == "" {
		return errTokenInactive
	}
	t, u, err := s.accessTokenUser(ctx, tokenID)
	if errors.Is(err, storage.ErrNotFound) {
		return errTokenInactive
	}
	if err != nil {
		return err
	}
	if !s.live(t, subject) {
		return errTokenInactive
	}
	if !isServiceToken(t) && (u.ID == "" || u.Status != storage.StatusActive) {
		return errTokenInactive
	}
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.Subject = t.Subject
	resp.Audience = t.Audience
	resp.Issuer = s.issuer
	resp.JWTID = t.ID
	return nil
}

// GetPrivateClaimsFromRequest adds the RFC 9068 scope claim to JWT access
// tokens, and roles and user_type when scope roles was granted. op calls
// it only while building an access token, just before it asks for the
// signing key: it marks the request so that the access token key signs.
//
// A user's access token also carries amr (RFC 8176), so that a resource
// (the admin API among them) can require two factors without a lookup.
func (s *Storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	markAccessToken(ctx) // op signs the access token next (keys.go)
	_, service := req.(*serviceRequest)
	claims, err := s.privateClaims(ctx, req.GetSubject(), req.GetScopes(), service)
	if r, ok := req.(interface{ GetAMR() []string }); ok && err == nil && !service && len(r.GetAMR()) > 0 {
		claims["amr"] = r.GetAMR()
	}
	return claims, err
}

// GetPrivateClaimsFromScopes is op's fallback when the request is not at
// hand; it gives the same claims.
func (s *Storage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return s.privateClaims(ctx, userID, scopes, userID == clientID)
}

func (s *Storage) privateClaims(ctx context.Context, subject string, scopes []string, service bool) (map[string]any, error) {
	claims := map[string]any{ClaimScope: strings.Join(scopes, " ")}
	if service || !slices.Contains(scopes, ScopeRoles) {
		return claims, nil
	}
	u, err := s.user(ctx, subject)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	claims[ClaimRoles] = roleNames(u)
	claims[ClaimUserType] = string(u.Type)
	return claims, nil
}
