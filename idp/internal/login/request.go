package login

import (
	"errors"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// maxIDLen bounds the auth request id taken from the URL or form.
const maxIDLen = 256

// loadRequest finds the pending authorization request id and its client.
// When it cannot, it has answered with an error page and reports false.
// A completed request counts as expired: its sign-in is over.
func (h *Handler) loadRequest(w http.ResponseWriter, r *http.Request, id string) (storage.AuthRequest, storage.Client, bool) {
	ctx := r.Context()
	if id == "" || len(id) > maxIDLen {
		h.expired(w, r)
		return storage.AuthRequest{}, storage.Client{}, false
	}
	req, err := h.d.Store.GetAuthRequest(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.expired(w, r)
		return req, storage.Client{}, false
	case err != nil:
		h.internalError(w, r, "loading auth request", err)
		return req, storage.Client{}, false
	case req.Done || !req.ExpiresAt.After(h.d.Now()):
		h.expired(w, r)
		return req, storage.Client{}, false
	}
	c, err := h.d.Store.GetClient(ctx, req.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.log.WarnContext(ctx, "login: auth request names an unknown client", "client", req.ClientID)
		h.expired(w, r)
		return req, c, false
	case err != nil:
		h.internalError(w, r, "loading client", err)
		return req, c, false
	}
	return req, c, true
}

// complete marks req as authenticated by session s and redirects the
// browser to the provider's callback with status (302 after GET, 303 after
// POST).
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, s storage.Session, status int) {
	ctx := r.Context()
	err := h.d.Store.CompleteAuthRequest(ctx, req.ID, storage.AuthResult{
		UserID:    s.UserID,
		AuthTime:  s.AuthTime,
		AMR:       s.AMR,
		SessionID: s.IDHash,
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.expired(w, r)
		return
	case err != nil:
		h.internalError(w, r, "completing auth request", err)
		return
	}
	http.Redirect(w, r, h.d.Callback(ctx, req.ID), status)
}
