package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Scopes the provider understands beyond the client-specific ones.
const (
	ScopeRoles = "roles" // roles (array) and user_type claims
	ScopeAdmin = "admin" // the admin API; only for clients that list it
	// ACRMFA is the one acr value: two factors (acr_values=mfa asks for
	// them; the ID token's acr says they were used).
	ACRMFA = "mfa"
)

// standardScopes may be requested by every client.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess, ScopeRoles}

var errClientAuth = errors.New("client authentication failed")

// client adapts storage.Client to op.Client.
type client struct {
	c          storage.Client
	loginURL   string // issuer + "/login?authRequestID="
	idTokenTTL time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType: public clients are native apps (the mobile and desktop
// apps: custom schemes and RFC 8252 loopback redirects, whose port op
// ignores); confidential clients are web applications, whose redirect URIs
// must match exactly.
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod: none for public clients; client_secret_basic for the others
// (op then also accepts client_secret_post, as AuthMethodPost is enabled).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.c.GrantTypes))
	for _, g := range c.c.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}

func (c *client) LoginURL(id string) string           { return c.loginURL + url.QueryEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenTTL }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits the non-standard scopes a client may ask for:
// roles for everyone, and what the client's registration lists (admin).
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeRoles || slices.Contains(c.c.Scopes, scope)
}

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// allowedScopes keeps the scopes of req that this client may have, in
// order, without duplicates.
func allowedScopes(c storage.Client, req []string) []string {
	out := make([]string, 0, len(req))
	for _, s := range req {
		if slices.Contains(out, s) {
			continue
		}
		if slices.Contains(standardScopes, s) || slices.Contains(c.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

func (s *Storage) adaptClient(c storage.Client) *client {
	return &client{c: c, loginURL: s.issuer + "/login?authRequestID=", idTokenTTL: s.idTokenTTL}
}

// GetClientByClientID loads a client. An unknown client is a plain error;
// a store failure is a server_error.
func (s *Storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		// invalid_client (401 at the token endpoint): op passes this
		// error on as it is at the refresh grant, where a plain one
		// became 500 server_error. Where op needs another answer (an
		// authorization request names an unknown client) it wraps it.
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client").WithParent(fmt.Errorf("client %q: %w", id, err))
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return s.adaptClient(c), nil
}

// AuthorizeClientIDSecret checks a confidential client's secret:
// password.Hasher.VerifySecret, a SHA-256 comparison for the secrets the
// provider generates, argon2id under the process-wide bound for older and
// operator-chosen ones. Client ids are not secret (RFC 6749 §2.2), so an
// unknown one is refused at once, with no dummy hash to spend CPU on.
// The per-source throttle and the mapping of a busy bound to 503 are
// clientAuthGuard's.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.authenticate(ctx, id, secret)
	return err
}

func (s *Storage) authenticate(ctx context.Context, id, secret string) (storage.Client, error) {
	c, err := s.client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		s.logger.InfoContext(ctx, "client authentication failed: unknown client")
		return storage.Client{}, errClientAuth
	}
	if err != nil {
		return storage.Client{}, oidc.ErrServerError().WithParent(err)
	}
	if c.Public || c.SecretHash == "" || secret == "" {
		s.logger.InfoContext(ctx, "client authentication failed: no secret to check", "client", c.ID)
		return storage.Client{}, errClientAuth
	}
	ok, err := s.hasher.VerifySecret(secret, c.SecretHash)
	switch {
	case errors.Is(err, password.ErrBusy):
		// Not a server fault: clientAuthGuard answers 503 for it.
		markBusy(ctx)
		s.logger.InfoContext(ctx, "client authentication not checked: hashing at capacity", "client", c.ID)
		return storage.Client{}, fmt.Errorf("%w: %w", errClientAuth, err)
	case err != nil:
		s.logger.ErrorContext(ctx, "client secret hash unusable", "client", c.ID, "err", err)
		return storage.Client{}, errClientAuth
	case !ok:
		s.logger.InfoContext(ctx, "client authentication failed", "client", c.ID)
		return storage.Client{}, errClientAuth
	}
	return c, nil
}

// ClientCredentials authenticates a client for the client_credentials
// grant; op then checks that the client has that grant.
func (s *Storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.authenticate(ctx, id, secret)
	if err != nil {
		return nil, err
	}
	return s.adaptClient(c), nil
}

// ClientCredentialsTokenRequest builds the request for a service token:
// the subject is the client itself, the scopes are those its registration
// lists (others are dropped).
func (s *Storage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if !c.HasGrant(storage.GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	granted := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if slices.Contains(c.Scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return &serviceRequest{clientID: c.ID, scopes: granted}, nil
}

// serviceRequest is a client_credentials token request.
type serviceRequest struct {
	clientID string
	scopes   []string
}

func (r *serviceRequest) GetSubject() string    { return r.clientID }
func (r *serviceRequest) GetAudience() []string { return []string{r.clientID} }
func (r *serviceRequest) GetScopes() []string   { return r.scopes }
