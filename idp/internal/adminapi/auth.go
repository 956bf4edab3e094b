package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// call is one authenticated request: who is calling, with which token,
// from where.
type call struct {
	// actor is the caller's user record as read for this request: roles
	// and status are never taken from the token.
	actor  storage.User
	token  storage.AccessToken
	source string
}

// tokenClaims are the claims of our JWT access tokens we check.
type tokenClaims struct {
	Issuer   string      `json:"iss"`
	Subject  string      `json:"sub"`
	Expiry   json.Number `json:"exp"`
	JWTID    string      `json:"jti"`
	ClientID string      `json:"client_id"`
	Audience audience    `json:"aud"`
	// AMR is how the user signed in (RFC 8176), for the two-factor rule.
	AMR []string `json:"amr"`
}

// audience is the aud claim: one string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// Fixed answers of the token check; the log gets the detail.
var (
	errNoToken = &apiError{code: api.CodeUnauthorized,
		message: "a bearer access token with scope admin is required"}
	errBadToken = &apiError{code: api.CodeUnauthorized, challenge: "invalid_token",
		message: "the access token is invalid"}
	errExpiredToken = &apiError{code: api.CodeUnauthorized, challenge: "invalid_token",
		message: "the access token has expired"}
	errRevokedToken = &apiError{code: api.CodeUnauthorized, challenge: "invalid_token",
		message: "the access token was revoked"}
	errInactiveUser = &apiError{code: api.CodeUnauthorized, challenge: "invalid_token",
		message: "the account of this token may no longer sign in"}
	errNeedsMFA = &apiError{code: api.CodeMFARequired, challenge: "insufficient_user_authentication",
		message: "your role requires two-step sign-in: sign in again with your authenticator app"}
	errNoAdminScope = &apiError{code: api.CodeInsufficientScope, challenge: "insufficient_scope",
		message: "the access token was not issued with scope admin"}
	errServiceToken = &apiError{code: api.CodeForbidden,
		message: "the admin API needs a user's access token, not a client's"}
)

// authenticate checks the bearer token of r and reads the caller. The
// token must be a JWT signed with one of the provider's published keys,
// issued by this issuer, unexpired, recorded in the store under its jti and
// not revoked, granted scope admin with the admin API in its audience
// (issuer + BasePath), and issued to a client that still may
// grant that scope (the admin API is the token's intended audience only
// through such a client). The user must exist and be active; their roles
// are read now, so a change takes effect on the next request.
func (h *Handler) authenticate(r *http.Request) (storage.User, storage.AccessToken, error) {
	ctx := r.Context()
	raw, ok := bearer(r)
	if !ok {
		return storage.User{}, storage.AccessToken{}, errNoToken
	}
	claims, err := h.verifyJWT(r, raw)
	if err != nil {
		return storage.User{}, storage.AccessToken{}, err
	}
	now := h.d.Now()
	t, err := h.d.Store.GetAccessToken(ctx, claims.JWTID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fail(errBadToken, "no token recorded under the jti")
	case err != nil:
		return storage.User{}, storage.AccessToken{}, err
	case t.Subject != claims.Subject || (claims.ClientID != "" && claims.ClientID != t.ClientID):
		return fail(errBadToken, "token record does not match the claims")
	case !t.RevokedAt.IsZero():
		return fail(errRevokedToken, "")
	case !now.Before(t.ExpiresAt):
		return fail(errExpiredToken, "")
	case !slices.Contains(t.Scopes, api.Scope):
		return fail(errNoAdminScope, "")
	case !slices.Contains(claims.Audience, api.Audience(h.d.Issuer)):
		return fail(errBadToken, "not issued for the admin API (aud)")
	case t.FamilyID == "" && t.Subject == t.ClientID:
		return fail(errServiceToken, "")
	}
	c, err := h.d.Store.GetClient(ctx, t.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fail(errRevokedToken, "client deleted")
	case err != nil:
		return storage.User{}, storage.AccessToken{}, err
	case !slices.Contains(c.Scopes, api.Scope):
		return fail(errNoAdminScope, "client no longer has scope admin")
	}
	u, err := h.d.Store.GetUser(ctx, t.Subject)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fail(errInactiveUser, "user deleted")
	case err != nil:
		return storage.User{}, storage.AccessToken{}, err
	case u.Status != storage.StatusActive:
		return fail(errInactiveUser, "user "+string(u.Status))
	case h.d.MFA != nil && h.d.MFA.Required(u) && !slices.Contains(claims.AMR, "mfa"):
		// The token's signature covers amr: it was issued after one factor.
		return fail(errNeedsMFA, "")
	}
	return u, t, nil
}

func fail(e *apiError, detail string) (storage.User, storage.AccessToken, error) {
	if detail == "" {
		return storage.User{}, storage.AccessToken{}, e
	}
	c := *e
	c.cause = errors.New(detail)
	return storage.User{}, storage.AccessToken{}, &c
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// verifyJWT checks the signature against the provider's public keys (an
// unknown key id is looked up in the store again, at most once per
// interval: another replica may have published a new key), the issuer and
// the expiry.
func (h *Handler) verifyJWT(r *http.Request, raw string) (tokenClaims, error) {
	var claims tokenClaims
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		_, _, e := fail(errBadToken, "not a JWS")
		return claims, e
	}
	payload, err := h.d.Keys.VerifyAccessToken(r.Context(), jws)
	switch {
	case errors.Is(err, keys.ErrUnknownKey):
		_, _, e := fail(errBadToken, "unknown key id")
		return claims, e
	case errors.Is(err, keys.ErrBadSignature):
		_, _, e := fail(errBadToken, "signature: "+err.Error())
		return claims, e
	case err != nil:
		return claims, err
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		_, _, e := fail(errBadToken, "claims: "+err.Error())
		return claims, e
	}
	exp, err := claims.Expiry.Float64()
	switch {
	case claims.Issuer != h.d.Issuer:
		_, _, e := fail(errBadToken, "issuer "+claims.Issuer)
		return claims, e
	case claims.JWTID == "" || claims.Subject == "" || err != nil:
		_, _, e := fail(errBadToken, "jti, sub or exp missing")
		return claims, e
	case !h.d.Now().Before(time.Unix(int64(exp), 0)):
		return claims, errExpiredToken
	}
	return claims, nil
}
