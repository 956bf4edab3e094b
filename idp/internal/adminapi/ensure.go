package adminapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/clients"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// DesktopRedirectURI is the desktop app's loopback redirect (RFC 8252):
// op matches a native client's loopback redirect ignoring the port, so the
// app listens on any free port of 127.0.0.1 with path /callback.
const DesktopRedirectURI = "http://127.0.0.1/callback"

// DesktopClient is the registration of the desktop admin app's built-in
// public client: authorization code + PKCE and refresh, scope admin, and
// only staff roles admitted.
func DesktopClient() clients.NewClient {
	return clients.NewClient{
		ID:           api.DesktopClientID,
		Name:         "CliniConnects Admin (desktop app)",
		Public:       true,
		RedirectURIs: []string{DesktopRedirectURI},
		GrantTypes:   []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
		AdmitRoles:   []storage.Role{storage.RoleSuperAdmin, storage.RoleAdmin, storage.RoleAssigningManager},
		Scopes:       []string{api.Scope},
	}
}

// EnsureDesktopClient registers the desktop app's client unless a client
// with its id exists (then it is left as the operator made it). Every
// replica may call it at start; a concurrent registration by another
// counts as success.
func EnsureDesktopClient(ctx context.Context, store storage.Storage, hasher password.Hasher) (created bool, err error) {
	_, err = store.GetClient(ctx, api.DesktopClientID)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, storage.ErrNotFound):
		return false, fmt.Errorf("adminapi: reading the desktop client: %w", err)
	}
	_, err = clients.Register(ctx, store, hasher, DesktopClient())
	if errors.Is(err, storage.ErrAlreadyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("adminapi: registering the desktop client: %w", err)
	}
	return true, nil
}
