package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// callbackGuard lets op mint a code only for the browser that started the
// request: the login pages send that browser here once it has signed in,
// and anybody else who learns the request id — a victim's poll set up by an
// attacker, an attacker polling with no cookie — is shown a page, never a
// code. A request that is unknown, expired, not yet signed in or already
// given its code is refused the same way (SetAuthRequestCode makes the
// last one hold under races as well).
func (p *Provider) callbackGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// GET only: op reads the id from the form, where a POST body would
		// take precedence over the query this guard checked.
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		id := r.URL.Query().Get("id")
		if id == "" || len(id) > maxRequestIDLen {
			p.refuse(w, r, storage.ErrNotFound)
			return
		}
		req, c, err := p.cfg.Store.GetAuthRequestClient(ctx, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			p.refuse(w, r, err)
			return
		case err != nil:
			p.logger().ErrorContext(ctx, "callback: loading auth request", "err", err)
			p.renderError(w, r, http.StatusInternalServerError, msgAuthorizeUnreadable)
			return
		case !p.binder.Matches(r, req.BrowserHash):
			p.logger().WarnContext(ctx, "callback: auth request of another browser refused", "client", req.ClientID)
			p.refuse(w, r, binding.ErrOtherBrowser)
			return
		case !req.Done || req.CodeHash != "" || !p.cfg.Now().Before(req.ExpiresAt):
			p.refuse(w, r, fmt.Errorf("auth request not ready or used: %w", storage.ErrNotFound))
			return
		}
		// op's AuthRequestByID takes the request from here, and its
		// lookups of the client take the client.
		keepClient(ctx, req.ClientID, c)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authRequestReadKey{}, req)))
	})
}

// maxRequestIDLen bounds the auth request id taken from a URL.
const maxRequestIDLen = 256

func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, why error) {
	w.Header().Set("Cache-Control", "no-store")
	if p.cfg.RefuseRequest != nil {
		p.cfg.RefuseRequest(w, r, why)
		return
	}
	p.renderError(w, r, http.StatusBadRequest, msgAuthorizeUnreadable)
}
