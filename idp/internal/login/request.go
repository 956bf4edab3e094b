package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// maxIDLen bounds the auth request id taken from the URL or form.
const maxIDLen = 256

// loadRequest finds the pending authorization request id and its client.
// When it cannot, it has answered with an error page and reports false.
// A request started in another browser is refused (binding), and a
// completed request counts as expired: its sign-in is over.
func (h *Handler) loadRequest(w http.ResponseWriter, r *http.Request, id string) (storage.AuthRequest, storage.Client, bool) {
	ctx := r.Context()
	if id == "" || len(id) > maxIDLen {
		h.expired(w, r)
		return storage.AuthRequest{}, storage.Client{}, false
	}
	// The request and its client in one read.
	req, c, err := h.d.Store.GetAuthRequestClient(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.expired(w, r)
		return req, storage.Client{}, false
	case err != nil:
		h.internalError(w, r, "loading auth request", err)
		return req, storage.Client{}, false
	case !h.d.Binder.Matches(r, req.BrowserHash):
		h.log.WarnContext(ctx, "login: auth request of another browser refused", "client", req.ClientID)
		h.RefuseRequest(w, r, binding.ErrOtherBrowser)
		return req, storage.Client{}, false
	case req.Done || !req.ExpiresAt.After(h.d.Now()):
		h.expired(w, r)
		return req, storage.Client{}, false
	case c.ID == "":
		h.log.WarnContext(ctx, "login: auth request names an unknown client", "client", req.ClientID)
		h.expired(w, r)
		return req, c, false
	}
	return req, c, true
}

// RefuseRequest shows why a pending authorization request cannot go on in
// this browser: why is binding.ErrOtherBrowser, or anything else for a
// request that is gone, expired or used (the provider's callback calls it
// too).
func (h *Handler) RefuseRequest(w http.ResponseWriter, r *http.Request, why error) {
	if errors.Is(why, binding.ErrOtherBrowser) {
		h.render(w, r, http.StatusForbidden, pageOtherBrowser, errorPage{Title: titleOtherBrowser})
		return
	}
	h.expired(w, r)
}

// complete marks req as authenticated by session s — and the session as
// one that has used req's client — and redirects the browser to the
// provider's callback with status (302 after GET, 303 after POST).
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, s storage.Session, status int) {
	ctx := r.Context()
	if err := h.completeRequest(ctx, req, s); err != nil {
		h.completeFailed(w, r, err)
		return
	}
	http.Redirect(w, r, h.d.Callback(ctx, req.ID), status)
}

// completeRequest records that session s used req's client and marks req
// as authenticated by s.
func (h *Handler) completeRequest(ctx context.Context, req storage.AuthRequest, s storage.Session) error {
	if err := h.d.Store.AddSessionClient(ctx, s.IDHash, req.ClientID); err != nil {
		return fmt.Errorf("recording the session's client: %w", err)
	}
	err := h.d.Store.CompleteAuthRequest(ctx, req.ID, storage.AuthResult{
		UserID:    s.UserID,
		AuthTime:  s.AuthTime,
		AMR:       s.AMR,
		SessionID: s.IDHash,
	})
	if err != nil {
		return fmt.Errorf("completing auth request: %w", err)
	}
	return nil
}

// completeFailed answers a completeRequest error.
func (h *Handler) completeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrNotFound) {
		h.expired(w, r)
		return
	}
	h.internalError(w, r, "completing", err)
}
