package adminapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Clients expose and set require_mfa (idp client add --require-mfa), and
// each change of it is audited.
func TestClientRequireMFA(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.client(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin))
		made, err := super.CreateClient(ctx, api.NewOIDCClient{ID: "payroll", RequireMFA: true, RedirectURIs: []string{"https://payroll.example/cb"}})
		if err != nil || !made.Client.RequireMFA {
			t.Fatalf("create with require_mfa: %+v, %v", made.Client, err)
		}
		if got, err := f.store.GetClient(ctx, "payroll"); err != nil || !got.RequireMFA {
			t.Fatalf("stored client: %+v, %v", got, err)
		}
		off := false
		got, err := super.UpdateClient(ctx, "payroll", made.Client.Version, api.OIDCClientUpdate{RequireMFA: &off})
		if err != nil || got.RequireMFA {
			t.Fatalf("turning require_mfa off: %+v, %v", got, err)
		}
		if !slices.ContainsFunc(f.audit("payroll"), func(e storage.AuditEntry) bool {
			return e.Action == api.ActionClientUpdate && e.Changes["require_mfa"] == [2]any{true, false}
		}) {
			t.Errorf("no audit entry of the change: %+v", f.audit("payroll"))
		}
		// A phone client cannot require it.
		if _, err := super.CreateClient(ctx, api.NewOIDCClient{ID: "app", Public: true, SignInMethod: api.SignInPhone, RequireMFA: true,
			RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}}); err == nil {
			t.Error("a phone client requiring two factors was accepted")
		}
	})
}
