package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
)

// MaxBodyBytes caps the body of every request but the admin API's (which
// reads JSON under its own, documented cap): forms on /authorize,
// /oauth/token, /oauth/introspect, /revoke, /end_session and every page
// are a few hundred bytes.
const MaxBodyBytes = 64 << 10

// Texts of the page a too large request gets.
const (
	titleTooLarge = "This request is too large"
	msgTooLarge   = "The form you sent is larger than this service accepts. Please go back and try again."
)

// limitBodies caps request bodies at MaxBodyBytes. A request that
// announces a larger body gets 413 before anything reads it: JSON
// invalid_request on the OAuth endpoints, the error page elsewhere. Any
// other body is read through http.MaxBytesReader, so one that turns out
// larger (chunked) fails to parse, which the handlers answer with 413 or
// 400.
func limitBodies(page func(w http.ResponseWriter, r *http.Request, status int, title, msg string), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminapi.PathPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > MaxBodyBytes {
			w.Header().Set("Connection", "close")
			if oauthEndpoint(r.URL.Path) {
				oidcprovider.WriteOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request",
					"the request body is larger than "+strconv.Itoa(MaxBodyBytes)+" bytes")
				return
			}
			page(w, r, http.StatusRequestEntityTooLarge, titleTooLarge, msgTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// oauthEndpoint reports whether path is answered in OAuth's JSON.
func oauthEndpoint(path string) bool {
	switch path {
	case oidcprovider.PathToken, oidcprovider.PathIntrospect, oidcprovider.PathRevoke, oidcprovider.PathUserinfo:
		return true
	}
	return false
}
