package oidcprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// discovery serves the discovery document, encoded once by New: it
// depends only on the issuer, which is static (op.StaticIssuer), and the
// configuration.
func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.discoveryJSON)
}

// encodeDiscovery encodes the discovery document as op's handler writes
// its own (encoding/json's Encoder).
func (p *Provider) encodeDiscovery() ([]byte, error) {
	ctx := op.ContextWithIssuer(context.Background(), p.cfg.Issuer)
	var buf bytes.Buffer
	err := json.NewEncoder(&buf).Encode(correctDiscovery(op.CreateDiscoveryConfig(ctx, p.op, p.storage)))
	return buf.Bytes(), err
}

// correctDiscovery is op's discovery document d corrected to advertise
// exactly what works: op lists implicit response types, the JWT bearer
// grant, a device endpoint and private_key_jwt algorithms we do not offer.
func correctDiscovery(d *oidc.DiscoveryConfiguration) discoveryDocument {
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFragment)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.RequestObjectSigningAlgValuesSupported = nil
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	d.ClaimsParameterSupported = false
	d.ScopesSupported = SupportedScopes
	d.ClaimsSupported = SupportedClaims
	d.SubjectTypesSupported = []string{"public"}
	d.ACRValuesSupported = []string{ACRMFA}
	return discoveryDocument{d, true}
}

// discoveryDocument is op's document plus what op does not know of.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	// RFC 9207: every authorization response carries iss (issParameter).
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}
