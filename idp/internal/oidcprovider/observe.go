package oidcprovider

import (
	"maps"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Observer is told what the token endpoint did, for the metrics; nil
// fields tell nobody.
type Observer struct {
	// TokenIssued: one token of kind "access", "refresh" or "id" was
	// issued for grant (authorization_code, refresh_token,
	// client_credentials). Counted when the grant's tokens are stored; op
	// signs them, and the ID token that code and refresh grants always
	// get, right after.
	TokenIssued func(kind, grant string)
	// RefreshRetried: a refresh token presented again within the reuse
	// window got a new pair (a client's retry after a lost answer).
	RefreshRetried func()
	// FamilyRevoked: a refresh token family was revoked, for "reuse" (a
	// rotated token presented again) or "revoke" (the revocation
	// endpoint).
	FamilyRevoked func(reason string)
}

// issued tells TokenIssued about a grant's tokens when err is nil.
func (o Observer) issued(grant oidc.GrantType, refresh bool, err error) {
	if err != nil || o.TokenIssued == nil {
		return
	}
	o.TokenIssued("access", string(grant))
	if refresh {
		o.TokenIssued("refresh", string(grant))
	}
	if grant != oidc.GrantTypeClientCredentials {
		o.TokenIssued("id", string(grant))
	}
}

func (o Observer) retried() {
	if o.RefreshRetried != nil {
		o.RefreshRetried()
	}
}

func (o Observer) revoked(reason string) {
	if o.FamilyRevoked != nil {
		o.FamilyRevoked(reason)
	}
}

// endpoints name the provider's routes for the metrics.
var endpoints = map[string]string{
	PathDiscovery:  "discovery",
	PathKeys:       "jwks",
	PathAuthorize:  "authorize",
	PathCallback:   "authorize_callback",
	PathToken:      "token",
	PathIntrospect: "introspect",
	PathUserinfo:   "userinfo",
	PathRevoke:     "revoke",
	PathEndSession: "end_session",
}

// EndpointNames is the name of each provider endpoint by path, as
// Endpoint gives them (a copy).
func EndpointNames() map[string]string { return maps.Clone(endpoints) }

// Endpoint names the provider endpoint r is for ("token", "userinfo",
// "jwks", …), "other" for any other path: a fixed set, for metric labels.
func Endpoint(r *http.Request) string {
	if name, ok := endpoints[r.URL.Path]; ok {
		return name
	}
	return "other"
}
