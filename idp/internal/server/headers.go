package server

import "net/http"

// SecurityHeaders sets the headers every response of the provider carries
// (secure: the issuer is https, so HSTS too). Pages carry
// tokens in URLs (reset links, auth request ids), so no referrer is ever
// sent; nothing may frame us; scripts and styles come only from us. There is
// deliberately no form-action directive: browsers apply it to the redirect
// that follows the sign-in POST, which would block native apps' private-use
// scheme redirect URIs (RFC 8252); forms only ever post to our own paths.
func SecurityHeaders(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
