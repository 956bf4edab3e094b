package adminapi_test

import (
	"context"
	"crypto"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestForgedTokens: a token whose claims are all genuine — its jti is
// recorded for this very user and client, unexpired, with scope admin — is
// still refused when the provider did not sign it exactly as it stands.
// The signature check is the only thing that stands between these
// forgeries and a super admin's session: no other check refuses them.
func TestForgedTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		target := f.active(storage.UserTypeEmployee)
		genuine := f.token(super)
		if r := f.do("GET", api.BasePath+"/me", genuine, ""); r.status != 200 {
			t.Fatalf("the genuine token: %d %s", r.status, r.body)
		}
		for _, forged := range testenv.Forgeries(t, genuine, f.publicKey()) {
			t.Run(forged.Name, func(t *testing.T) {
				r := f.do("GET", api.BasePath+"/me", forged.Token, "")
				if r.status != 401 || r.errorBody(t).Code != api.CodeUnauthorized ||
					!strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Fatalf("GET /me: %d %s %q", r.status, r.body, r.header.Get("WWW-Authenticate"))
				}
				r = f.do("POST", api.BasePath+"/employees/"+target.ID+"/disable", forged.Token, "")
				if r.status != 401 {
					t.Fatalf("disable: %d %s", r.status, r.body)
				}
				if got := f.get(target.ID); got.Status != storage.StatusActive || got.Version != target.Version {
					t.Fatalf("a forged token changed the record: %+v", got)
				}
			})
		}
		// Genuine claims, recorded, signed by the provider — but with the
		// ID token key: what that key signs is an ID token, never an
		// access token.
		t.Run("signed by the ID token key", func(t *testing.T) {
			idSigned := f.token(super, func(o *tokenOpts) { o.idKey = true })
			if r := f.do("GET", api.BasePath+"/me", idSigned, ""); r.status != 401 {
				t.Fatalf("GET /me: %d %s", r.status, r.body)
			}
		})
		// The genuine token still works: nothing above was refused for
		// a reason of its own.
		if _, err := api.NewClient(f.issuer, f.srv.Client(), api.StaticToken(genuine)).Me(ctx); err != nil {
			t.Fatalf("the genuine token after the forgeries: %v", err)
		}
	})
}

// publicKey is the provider's current access token key as the JWKS
// publishes it.
func (f *fixture) publicKey() crypto.PublicKey {
	f.t.Helper()
	ctx := context.Background()
	meta, _, err := f.keys.Access.Signing(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	pub, err := f.keys.Public(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, k := range pub {
		if k.KeyID == meta.ID {
			return k.Key
		}
	}
	f.t.Fatalf("signing key %s not published", meta.ID)
	return nil
}
