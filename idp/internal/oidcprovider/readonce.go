package oidcprovider

import (
	"context"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// readOnce gives a request to the authorization or callback endpoint what
// clientAuthGuard gives the endpoints that authenticate clients: its
// client is read from the store at most once however often op and our
// wrappers look it up (Storage.client). Nothing outlives the request.
func readOnce(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAuthCtxKey{}, &clientAuthCall{})))
	})
}

// keepClient records client id, read as c (the zero Client when there is
// none), as read in the request of ctx: Storage.client takes it from
// there. It does nothing outside readOnce and clientAuthGuard, or when
// the request read a client already.
func keepClient(ctx context.Context, id string, c storage.Client) {
	if call, ok := ctx.Value(clientAuthCtxKey{}).(*clientAuthCall); ok {
		call.keep(id, c)
	}
}

// authRequestReadKey carries the auth request callbackGuard read and
// checked, so that op's AuthRequestByID in the same request takes it
// instead of reading it again.
type authRequestReadKey struct{}

// keptAuthRequest is the auth request with id read earlier in the request
// of ctx, if any.
func keptAuthRequest(ctx context.Context, id string) (storage.AuthRequest, bool) {
	r, ok := ctx.Value(authRequestReadKey{}).(storage.AuthRequest)
	return r, ok && r.ID == id
}
