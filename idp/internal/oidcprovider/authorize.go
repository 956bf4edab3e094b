package oidcprovider

import (
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Fixed texts of the authorize error page.
const (
	authorizeErrorTitle    = "This sign-in link is not valid"
	msgUnknownClient       = "The application that sent you here is not registered with CliniConnects. Please go back and try again, or contact your administrator."
	msgBadRedirect         = "The application that sent you here asked to return to an address it has not registered. Please contact your administrator."
	msgAuthorizeUnreadable = "The sign-in request could not be read. Please go back and try again."
	msgAuthorizeTooLarge   = "The sign-in request is too large to be read. Please go back and try again, or contact your administrator."
	msgParamTooLong        = "The application that sent you here sent a sign-in request with a value that is too long. Please contact your administrator."
)

// MaxParamBytes caps every authorization request parameter that is stored
// with the request (or, for client_id and redirect_uri, looked up): longer
// ones are refused with invalid_request, so a stored request stays small.
const MaxParamBytes = 2 << 10

// storedParams are the /authorize parameters kept with a stored request
// (storage.AuthRequest), besides client_id and redirect_uri.
var storedParams = []string{
	"state", "nonce", "scope", "response_type", "response_mode", "code_challenge",
	"code_challenge_method", "prompt", "login_hint", "max_age",
}

// tooLong returns the first of names whose value in form is longer than
// MaxParamBytes ("" when none is).
func tooLong(form map[string][]string, names ...string) string {
	for _, n := range names {
		for _, v := range form[n] {
			if len(v) > MaxParamBytes {
				return n
			}
		}
	}
	return ""
}

// authorizeGuard answers an unknown client_id or an unregistered
// redirect_uri with an error page and never a redirect (RFC 6749
// §4.1.2.1): op would answer them with bare text. Everything else goes to
// op, which redirects errors to the now validated redirect URI.
func (p *Provider) authorizeGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.parsePageForm(w, r) {
			return
		}
		// Too long to be a registered client or redirect URI: the page,
		// never a redirect.
		if n := tooLong(r.Form, "client_id", "redirect_uri"); n != "" {
			p.logger().InfoContext(r.Context(), "authorize: parameter too long", "param", n)
			p.renderError(w, r, http.StatusBadRequest, msgParamTooLong)
			return
		}
		id, redirect := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
		if id == "" {
			p.renderError(w, r, http.StatusBadRequest, msgUnknownClient)
			return
		}
		c, err := p.storage.client(r.Context(), id)
		if errors.Is(err, storage.ErrNotFound) {
			p.logger().InfoContext(r.Context(), "authorize: unknown client")
			p.renderError(w, r, http.StatusBadRequest, msgUnknownClient)
			return
		}
		if err != nil {
			p.logger().ErrorContext(r.Context(), "authorize: loading client", "err", err)
			p.renderError(w, r, http.StatusInternalServerError, msgAuthorizeUnreadable)
			return
		}
		// The redirect URI is checked as for the code flow, the only one we
		// run, so that another response_type is answered at the (valid)
		// redirect URI with unsupported_response_type below.
		if err := op.ValidateAuthReqRedirectURI(p.storage.adaptClient(c), redirect, oidc.ResponseTypeCode); err != nil {
			p.logger().InfoContext(r.Context(), "authorize: redirect_uri not registered", "client", c.ID)
			p.renderError(w, r, http.StatusBadRequest, msgBadRedirect)
			return
		}
		// The redirect URI is valid: errors go back to it from here on.
		if n := tooLong(r.Form, storedParams...); n != "" {
			p.logger().InfoContext(r.Context(), "authorize: parameter too long", "client", c.ID, "param", n)
			p.redirectError(w, r, oidc.ErrInvalidRequest().WithDescription("%s is longer than %d bytes", n, MaxParamBytes))
			return
		}
		// Only the code flow exists; op would answer other response types
		// with unauthorized_client.
		switch rt := r.Form.Get("response_type"); rt {
		case string(oidc.ResponseTypeCode):
		case "":
			p.redirectError(w, r, oidc.ErrInvalidRequest().WithDescription("response_type is missing"))
			return
		default:
			p.redirectError(w, r, (&oidc.Error{ErrorType: "unsupported_response_type"}).WithDescription("only response_type=code is supported"))
			return
		}
		// The request op stores next belongs to this browser.
		hash := p.binder.Ensure(w, r)
		next.ServeHTTP(w, r.WithContext(binding.WithHash(r.Context(), hash)))
	})
}

// redirectError sends an authorization error back to the validated
// redirect URI, with state (unless state itself is too long to echo).
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, err error) {
	state := r.Form.Get("state")
	if len(state) > MaxParamBytes {
		state = ""
	}
	req := &oidc.AuthRequest{RedirectURI: r.Form.Get("redirect_uri"), ResponseType: oidc.ResponseTypeCode, State: state}
	op.AuthRequestError(w, r, req, err, p.op)
}

// parsePageForm parses r's form for an endpoint a browser sees (authorize,
// end_session): a body over the server's cap gets the error page with 413,
// an unreadable one with 400. It reports whether the form was parsed.
func (p *Provider) parsePageForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		p.renderError(w, r, http.StatusRequestEntityTooLarge, msgAuthorizeTooLarge)
		return false
	}
	p.renderError(w, r, http.StatusBadRequest, msgAuthorizeUnreadable)
	return false
}

func (p *Provider) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if p.cfg.RenderError != nil {
		p.cfg.RenderError(w, r, status, authorizeErrorTitle, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(authorizeErrorTitle + "\n\n" + msg + "\n"))
}
