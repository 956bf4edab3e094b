package oidcprovider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// endSession implements RP-Initiated Logout 1.0 in place of op's handler,
// which redirects without a hint and never ends our browser session.
//
// The browser session ends at once only when the request carries an
// id_token_hint that we signed (expired hints are accepted, as the spec
// allows) for the user signed in here, or when the user confirmed on our
// page (a same-origin POST with confirm=1, CSRF-checked). Anything else —
// a bare GET, a foreign or forged hint, another user's hint — shows the
// confirmation page and changes nothing, so a link or an image on another
// site cannot sign anybody out (logout CSRF).
//
// The browser goes back to the client only when the hint is valid,
// client_id (if sent) matches the hint's azp, and post_logout_redirect_uri
// is exactly one the client registered; state is then appended. In every
// other case the signed-out page is shown.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if !p.parsePageForm(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	claims, hinted := p.logoutHint(r)
	if !p.mayEndSession(r, claims, hinted) {
		p.confirmLogout(w, r)
		return
	}
	if p.cfg.EndSession != nil {
		p.cfg.EndSession(w, r)
	}
	target := p.cfg.Issuer + PathLoggedOut
	if back, ok := p.logoutRedirect(r, claims, hinted); ok {
		target = back
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// mayEndSession reports whether r may end the browser's session without
// asking: there is none, the hint names its user, or the user confirmed.
func (p *Provider) mayEndSession(r *http.Request, claims *oidc.IDTokenClaims, hinted bool) bool {
	sub := ""
	if p.cfg.SessionSubject != nil {
		sub = p.cfg.SessionSubject(r)
	}
	switch {
	case sub == "":
		return true
	case hinted && claims.Subject == sub:
		return true
	case r.Method == http.MethodPost && r.PostForm.Get("confirm") == "1":
		return p.logoutCSRF.Check(r) == nil
	}
	return false
}

// confirmLogout shows the "sign out?" page, whose button POSTs the request
// back with confirm=1.
func (p *Provider) confirmLogout(w http.ResponseWriter, r *http.Request) {
	keep := url.Values{}
	for _, k := range []string{"id_token_hint", "post_logout_redirect_uri", "state", "client_id"} {
		if v := r.Form.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if p.cfg.ConfirmLogout != nil {
		p.cfg.ConfirmLogout(w, r, keep)
		return
	}
	p.renderError(w, r, http.StatusOK, "Sign out?")
}

// logoutHint verifies the request's id_token_hint; hinted is false when
// there is none or it is not ours.
func (p *Provider) logoutHint(r *http.Request) (*oidc.IDTokenClaims, bool) {
	hint := r.Form.Get("id_token_hint")
	if hint == "" {
		return nil, false
	}
	ctx := r.Context()
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, p.op.IDTokenHintVerifier(ctx))
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		p.logger().InfoContext(ctx, "end_session: id_token_hint refused", "err", err)
		return nil, false
	}
	return claims, claims != nil
}

// logoutRedirect returns where to send the browser back to, if anywhere.
func (p *Provider) logoutRedirect(r *http.Request, claims *oidc.IDTokenClaims, hinted bool) (string, bool) {
	uri := r.Form.Get("post_logout_redirect_uri")
	if !hinted || uri == "" {
		return "", false
	}
	ctx := r.Context()
	clientID := claims.AuthorizedParty
	if clientID == "" && len(claims.Audience) == 1 {
		clientID = claims.Audience[0]
	}
	if clientID == "" || (r.Form.Get("client_id") != "" && r.Form.Get("client_id") != clientID) {
		return "", false
	}
	c, err := p.cfg.Store.GetClient(ctx, clientID)
	if err != nil || !slices.Contains(c.PostLogoutRedirectURIs, uri) {
		p.logger().InfoContext(ctx, "end_session: post_logout_redirect_uri not registered", "client", clientID)
		return "", false
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", false
	}
	if st := r.Form.Get("state"); st != "" {
		q := u.Query()
		q.Set("state", st)
		u.RawQuery = q.Encode()
	}
	return u.String(), true
}
