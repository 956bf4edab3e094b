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
// The browser session of the request always ends (its cookie is cleared).
// The browser goes back to the client only when the request carries an
// id_token_hint that we signed (expired hints are accepted, as the spec
// allows), client_id (if sent) matches the hint's azp, and
// post_logout_redirect_uri is exactly one the client registered; state is
// then appended. In every other case the signed-out page is shown.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, msgAuthorizeUnreadable)
		return
	}
	if p.cfg.EndSession != nil {
		p.cfg.EndSession(w, r)
	}
	target := p.cfg.Issuer + PathLoggedOut
	if back, ok := p.logoutRedirect(r); ok {
		target = back
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// logoutRedirect returns where to send the browser back to, if anywhere.
func (p *Provider) logoutRedirect(r *http.Request) (string, bool) {
	hint, uri := r.Form.Get("id_token_hint"), r.Form.Get("post_logout_redirect_uri")
	if hint == "" || uri == "" {
		return "", false
	}
	ctx := r.Context()
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, p.op.IDTokenHintVerifier(ctx))
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		p.logger().InfoContext(ctx, "end_session: id_token_hint refused", "err", err)
		return "", false
	}
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
