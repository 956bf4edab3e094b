package oidcprovider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/keys"
)

// introspect answers token introspection (RFC 7662) itself rather than
// through op: op parses the form with a reflective decoder twice, parses
// the JWT twice and decodes its claims twice (into a struct and a map),
// which was a fifth of an introspection's CPU. What it checks is op's:
//
//   - the caller authenticates with client_secret_basic, the one method
//     discovery names for this endpoint; anything else is 401
//     invalid_client (introspectGuard adds the challenge, clientAuthGuard
//     counts the failure);
//   - the token is one JWT signed by an access token key
//     (keys.Set.VerifyAccessToken),
//     issued by us and unexpired; then the recorded token, its user and
//     the caller decide (SetIntrospectionFromToken), read on every
//     request so that a revocation takes effect at once.
//
// The caller is authenticated before the token is verified, so an
// anonymous request costs no signature check. A token that fails any
// check is {"active":false}, as RFC 7662 §2.2 asks; a token that could not
// be checked (a store error) is never answered inactive: it is a 500,
// which the server turns into 503 when the database is unavailable.
//
// The token parameter must appear exactly once, in the body: RFC 6749 §3.1
// forbids repeated parameters, and clientAuthGuard read the row of the
// token this handler verifies (introspectedTokenID takes the same value).
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "introspection takes a POST")
		return
	}
	ctx := r.Context()
	id, secret, ok := basicCredentials(r)
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if err := p.storage.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		// clientAuthGuard read the client: a store error answered 503
		// there, and hashing at capacity turns this 401 into 503.
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	tokens := r.PostForm["token"]
	if len(tokens) != 1 || tokens[0] == "" || r.URL.Query().Has("token") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the token parameter must be sent once, in the body")
		return
	}
	resp := new(oidc.IntrospectionResponse)
	claims, err := p.verifyAccessToken(r, tokens[0])
	if err == nil {
		err = p.storage.SetIntrospectionFromToken(ctx, resp, claims.JTI, claims.Subject, id)
	}
	switch {
	case err == nil:
		resp.Active = true
	case errors.Is(err, errTokenInactive):
		resp = new(oidc.IntrospectionResponse) // nothing about a token that is not active
	default:
		p.logger().ErrorContext(ctx, "introspection: the token could not be checked", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "the token could not be checked")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// basicCredentials is r's client_secret_basic client id and secret, each
// form-decoded (RFC 6749 §2.3.1), as op reads them.
func basicCredentials(r *http.Request) (id, secret string, ok bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", "", false
	}
	id, err := url.QueryUnescape(user)
	if err != nil || id == "" {
		return "", "", false
	}
	secret, err = url.QueryUnescape(pass)
	if err != nil {
		return "", "", false
	}
	return id, secret, true
}

// accessTokenClaims are the claims of our access tokens that introspection
// checks before it looks the token up.
type accessTokenClaims struct {
	Issuer  string  `json:"iss"`
	Subject string  `json:"sub"`
	JTI     string  `json:"jti"`
	Expiry  float64 `json:"exp"`
}

// accessTokenAlgs are the algorithms an access token may name: ES256, and
// RS256 for tokens from before access tokens had keys of their own
// (keys.Set.VerifyAccessToken decides which key may sign what).
var accessTokenAlgs = []jose.SignatureAlgorithm{keys.ES256, keys.RS256}

// verifyAccessToken checks raw's signature with the access token keys, its
// issuer and its expiry, and returns its claims. A token that fails a
// check is errTokenInactive; a key store error is returned as it is.
func (p *Provider) verifyAccessToken(r *http.Request, raw string) (accessTokenClaims, error) {
	var c accessTokenClaims
	jws, err := jose.ParseSigned(raw, accessTokenAlgs)
	if err != nil {
		return c, errTokenInactive
	}
	payload, err := p.cfg.Keys.VerifyAccessToken(r.Context(), jws)
	switch {
	case errors.Is(err, keys.ErrUnknownKey) || errors.Is(err, keys.ErrBadSignature):
		return c, errTokenInactive
	case err != nil:
		return c, err
	}
	if json.Unmarshal(payload, &c) != nil || c.Issuer != p.cfg.Issuer || c.JTI == "" ||
		!p.storage.now().Before(time.Unix(int64(c.Expiry), 0)) {
		return c, errTokenInactive
	}
	return c, nil
}
