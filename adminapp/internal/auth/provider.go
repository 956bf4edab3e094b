package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// ClientID is the provider's built-in public client for this app.
const ClientID = adminapi.DesktopClientID

// Scopes are what the app asks for: an ID token with the user's profile
// and roles, an access token for the admin API, and a refresh token.
var Scopes = []string{oidc.ScopeOpenID, "profile", "email", "roles", adminapi.Scope, oidc.ScopeOfflineAccess}

// ErrIssuer is returned by NormalizeIssuer for a URL that cannot be an
// issuer.
var ErrIssuer = errors.New("the provider URL must be an absolute https URL (http only on 127.0.0.1 or localhost), without query or fragment")

// NormalizeIssuer checks that s can be an issuer URL and returns it
// without a trailing slash.
func NormalizeIssuer(s string) (string, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrIssuer
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return "", ErrIssuer
		}
	default:
		return "", ErrIssuer
	}
	return s, nil
}

// Provider is a discovered OpenID provider.
type Provider struct {
	Issuer string
	oidc   *oidc.Provider
	http   *http.Client
	// endSession and revocation are from the discovery document ("" when
	// the provider does not publish them).
	endSession string
	revocation string
}

// Discover fetches and checks the provider's discovery document (its
// issuer must be exactly issuer). httpClient nil means a client with a
// 30-second timeout.
func Discover(ctx context.Context, issuer string, httpClient *http.Client) (*Provider, error) {
	iss, err := NormalizeIssuer(issuer)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, httpClient), iss)
	if err != nil {
		return nil, fmt.Errorf("auth: discovery of %s: %w", iss, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
		Revocation string `json:"revocation_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("auth: discovery of %s: %w", iss, err)
	}
	return &Provider{Issuer: iss, oidc: op, http: httpClient, endSession: extra.EndSession, revocation: extra.Revocation}, nil
}

// HTTPClient is the client the provider is talked to with.
func (p *Provider) HTTPClient() *http.Client { return p.http }

func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.http)
}

// verifier checks an ID token's signature, issuer, audience and expiry.
func (p *Provider) verifier(now func() time.Time) *oidc.IDTokenVerifier {
	return p.oidc.Verifier(&oidc.Config{ClientID: ClientID, Now: now})
}
