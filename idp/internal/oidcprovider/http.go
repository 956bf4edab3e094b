package oidcprovider

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// routes puts our wrappers in front of op's router. Each wrapper adds what
// op leaves out (see OIDC-NOTES: no-store, WWW-Authenticate, S256 only).
func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	withIssuer := p.Interceptor
	// Discovery and the JWKS are served from bytes made once per change
	// (discovery.go, keys.go); they need no issuer in the context.
	mux.Handle(PathDiscovery, p.cors.Handler(http.HandlerFunc(p.discovery)))
	mux.Handle(PathKeys, p.cors.Handler(http.HandlerFunc(p.jwks)))
	mux.Handle(PathAuthorize, p.issParam(readOnce(p.authorizeGuard(p.op))))
	mux.Handle(PathCallback, p.issParam(readOnce(p.callbackGuard(p.op))))
	mux.Handle(PathToken, p.clientAuthGuard(p.tokenGuard(p.op), nil))
	mux.Handle(PathUserinfo, p.userinfoGuard(p.op))
	mux.Handle(PathIntrospect, p.clientAuthGuard(p.introspectGuard(http.HandlerFunc(p.introspect)), introspectedTokenID))
	mux.Handle(PathRevoke, p.clientAuthGuard(p.basicChallenge(p.op), nil))
	mux.Handle(PathEndSession, withIssuer(http.HandlerFunc(p.endSession)))
	// Offered by op but not by us.
	mux.Handle("/device_authorization", http.NotFoundHandler())
	mux.Handle("/", p.op)
	return mux
}

// issParam adds iss to the authorization responses next sends (RFC 9207).
func (p *Provider) issParam(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(p.withIss(w), r)
	})
}

// tokenGrantTypes are the grants the token endpoint accepts; op would also
// run the JWT bearer grant, which we do not offer.
var tokenGrantTypes = map[string]bool{
	"":                                      true, // op answers invalid_request
	string(oidc.GrantTypeCode):              true,
	string(oidc.GrantTypeRefreshToken):      true,
	string(oidc.GrantTypeClientCredentials): true,
}

// tokenGuard: token responses must not be cached (RFC 6749 §5.1), a 401
// names the Basic scheme (§5.2), and unsupported grants are refused.
func (p *Provider) tokenGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if !p.parseOAuthForm(w, r) {
			return
		}
		if !tokenGrantTypes[r.Form.Get("grant_type")] {
			writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "the grant type is not supported")
			return
		}
		r = r.WithContext(withTokenSlot(r.Context())) // access tokens get their own key (keys.go)
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: p.basicRealm()}, r)
	})
}

// introspectGuard: no-store, and a failed client authentication answers
// 401 invalid_client with a Basic challenge.
func (p *Provider) introspectGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		next.ServeHTTP(&rewriteWriter{ResponseWriter: w, codes: []int{http.StatusUnauthorized},
			status: http.StatusUnauthorized, challenge: p.basicRealm(),
			body: oauthError{"invalid_client", "client authentication failed"}}, r)
	})
}

// basicChallenge adds a Basic challenge to 401 answers.
func (p *Provider) basicChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: p.basicRealm()}, r)
	})
}

// userinfoGuard: op answers a bad token with a bare 401 or 403; RFC 6750
// wants 401 with a Bearer challenge naming invalid_token.
func (p *Provider) userinfoGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		challenge := `Bearer realm=` + strconv.Quote(p.cfg.Issuer) + `, error="invalid_token"`
		next.ServeHTTP(&rewriteWriter{ResponseWriter: w, codes: []int{http.StatusUnauthorized, http.StatusForbidden},
			status: http.StatusUnauthorized, challenge: challenge,
			body: oauthError{"invalid_token", "the access token is missing, invalid, expired or revoked"}}, r)
	})
}

// parseOAuthForm parses r's form for an OAuth endpoint. A body over the
// server's cap (http.MaxBytesReader) gets 413, an unreadable one 400, both
// invalid_request; it reports whether the form was parsed.
func (p *Provider) parseOAuthForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request",
			"the request body is larger than "+strconv.FormatInt(tooBig.Limit, 10)+" bytes")
		return false
	}
	writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body could not be parsed")
	return false
}

func (p *Provider) basicRealm() string { return `Basic realm=` + strconv.Quote(p.cfg.Issuer) }

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteOAuthError writes an OAuth error answer ({"error", "error_description"},
// RFC 6749 §5.2), not to be cached: for answers the server gives on the
// OAuth endpoints before they are reached (413, 503).
func WriteOAuthError(w http.ResponseWriter, status int, code, desc string) {
	noStore(w)
	writeOAuthError(w, status, code, desc)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oauthError{code, desc})
}

// challengeWriter adds a WWW-Authenticate header to a 401.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized && c.Header().Get("WWW-Authenticate") == "" {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(code)
}

// rewriteWriter replaces answers with a status in codes by a fixed JSON
// error with status and challenge; other answers pass through.
type rewriteWriter struct {
	http.ResponseWriter
	codes     []int
	status    int
	challenge string
	body      oauthError
	replaced  bool
}

func (rw *rewriteWriter) WriteHeader(code int) {
	for _, c := range rw.codes {
		if c == code {
			rw.replaced = true
			h := rw.Header()
			h.Del("Content-Length")
			h.Set("WWW-Authenticate", rw.challenge)
			writeOAuthError(rw.ResponseWriter, rw.status, rw.body.Error, rw.body.Description)
			return
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *rewriteWriter) Write(b []byte) (int, error) {
	if rw.replaced {
		return len(b), nil
	}
	return rw.ResponseWriter.Write(b)
}
