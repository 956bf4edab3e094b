package oidcprovider

import (
	"net/http"
	"net/url"
	"strings"
)

// withIss adds the issuer to every authorization response that leaves for
// a client's redirect URI, successful or not (RFC 9207), so a client that
// talks to several providers can tell which one answered (mix-up attacks).
// op builds these redirects itself; the wrapper rewrites their Location.
func (p *Provider) withIss(w http.ResponseWriter) http.ResponseWriter {
	return &issWriter{ResponseWriter: w, issuer: p.cfg.Issuer}
}

type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (iw *issWriter) WriteHeader(code int) {
	if code == http.StatusFound || code == http.StatusSeeOther {
		if loc := iw.Header().Get("Location"); loc != "" {
			iw.Header().Set("Location", addIss(loc, iw.issuer))
		}
	}
	iw.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (iw *issWriter) Unwrap() http.ResponseWriter { return iw.ResponseWriter }

// addIss sets iss beside the code or error of an authorization response in
// loc — in the fragment for response_mode=fragment, else in the query.
// Redirects within the provider (to the sign-in page) are left alone.
func addIss(loc, issuer string) string {
	if strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, issuer+"/") {
		return loc
	}
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	isResponse := func(v url.Values) bool { return v.Has("code") || v.Has("error") }
	if f, err := url.ParseQuery(u.Fragment); err == nil && u.Fragment != "" && isResponse(f) {
		f.Set("iss", issuer)
		u.Fragment, u.RawFragment = f.Encode(), ""
		return u.String()
	}
	if q := u.Query(); isResponse(q) {
		q.Set("iss", issuer)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return loc
}
