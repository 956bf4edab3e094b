package storage

import (
	"log/slog"
	"slices"
	"time"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is a relying party: a CliniConnects module registered with the
// provider.
type Client struct {
	ID                     string
	Name                   string
	SecretHash             string // argon2id PHC of the secret; "" for public clients
	Public                 bool   // public clients have no secret and must use PKCE
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	// AdmitRoles and AdmitTypes name who may sign in to this client: a user
	// is admitted when both lists are empty, when they hold one of
	// AdmitRoles, or when their type is one of AdmitTypes.
	AdmitRoles []Role
	AdmitTypes []UserType
	// Scopes are extra scopes beyond the standard OIDC ones that this client
	// may request (for example "admin" for the admin API).
	Scopes []string
	// SignInMethod is SignInEmail or SignInPhone ("" reads as email): a
	// phone client's users sign in with mobile number and PIN, and a
	// clinician's phone change revokes its tokens.
	SignInMethod string
	// RequireMFA: everyone who signs in to this client does so with two
	// factors (an authenticator app), whatever their roles.
	RequireMFA bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// PhoneSignIn reports whether the client signs users in by phone and PIN.
func (c Client) PhoneSignIn() bool { return c.SignInMethod == SignInPhone }

// Admits reports whether the client lets u sign in.
func (c Client) Admits(u User) bool {
	if len(c.AdmitRoles) == 0 && len(c.AdmitTypes) == 0 {
		return true
	}
	if slices.Contains(c.AdmitTypes, u.Type) {
		return true
	}
	for _, r := range u.Roles {
		if slices.Contains(c.AdmitRoles, r) {
			return true
		}
	}
	return false
}

// HasGrant reports whether the client may use grant type g.
func (c Client) HasGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// LogValue keeps the secret hash out of every log line.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.Bool("public", c.Public))
}
