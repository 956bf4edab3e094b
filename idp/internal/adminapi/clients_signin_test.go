package adminapi_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Clients expose and set sign_in_method, validated as the CLI validates
// it (package clients): a phone client admits clinicians only and needs
// the code grant; anything but email or phone is refused.
func TestClientSignInMethod(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.client(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin))
		fieldErr := func(err error) string {
			var e *api.Error
			if !errors.As(err, &e) || e.Code != api.CodeValidation {
				t.Fatalf("want validation_failed, got %v", err)
			}
			return e.Fields["sign_in_method"]
		}

		web, err := super.CreateClient(ctx, api.NewOIDCClient{ID: "web", RedirectURIs: []string{"https://web.example/cb"}})
		if err != nil || web.Client.SignInMethod != api.SignInEmail {
			t.Fatalf("default sign-in method: %+v, %v", web.Client, err)
		}
		app, err := super.CreateClient(ctx, api.NewOIDCClient{ID: "mobile", Public: true, SignInMethod: api.SignInPhone,
			RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}})
		if err != nil || app.Client.SignInMethod != api.SignInPhone || !slices.Equal(app.Client.AdmitTypes, []api.UserType{api.UserTypeClinician}) {
			t.Fatalf("phone client: %+v, %v", app.Client, err)
		}
		if got, err := f.store.GetClient(ctx, "mobile"); err != nil || !got.PhoneSignIn() {
			t.Fatalf("stored phone client: %+v, %v", got, err)
		}
		if es := f.audit("mobile"); len(es) != 1 || es[0].Changes["sign_in_method"][1] != "phone" {
			t.Fatalf("audit of the creation: %+v", es)
		}

		for name, in := range map[string]api.NewOIDCClient{
			"unknown method": {ID: "x1", Public: true, SignInMethod: "sms", RedirectURIs: []string{"https://x.example/cb"}},
			"admits roles": {ID: "x2", Public: true, SignInMethod: api.SignInPhone, RedirectURIs: []string{"https://x.example/cb"},
				AdmitRoles: []api.Role{api.RoleAdmin}},
			"admits employees": {ID: "x3", Public: true, SignInMethod: api.SignInPhone, RedirectURIs: []string{"https://x.example/cb"},
				AdmitTypes: []api.UserType{api.UserTypeEmployee}},
			"no code grant": {ID: "x4", SignInMethod: api.SignInPhone, GrantTypes: []string{"client_credentials"}},
		} {
			if _, err := super.CreateClient(ctx, in); fieldErr(err) == "" {
				t.Errorf("%s: no message for sign_in_method", name)
			}
		}

		// An update switches the method, validated as a new client.
		phone := api.SignInPhone
		roles := []api.Role{api.RoleAdmin}
		if _, err := super.UpdateClient(ctx, "web", web.Client.Version, api.OIDCClientUpdate{SignInMethod: &phone, AdmitRoles: &roles}); fieldErr(err) == "" {
			t.Error("a phone client admitting admins was accepted")
		}
		got, err := super.UpdateClient(ctx, "web", web.Client.Version, api.OIDCClientUpdate{SignInMethod: &phone})
		if err != nil || got.SignInMethod != api.SignInPhone || !slices.Equal(got.AdmitTypes, []api.UserType{api.UserTypeClinician}) {
			t.Fatalf("switching to phone: %+v, %v", got, err)
		}
		if !slices.ContainsFunc(f.audit("web"), func(e storage.AuditEntry) bool {
			return e.Action == api.ActionClientUpdate && e.Changes["sign_in_method"] == [2]any{"email", "phone"}
		}) {
			t.Fatalf("no audit entry of the switch: %+v", f.audit("web"))
		}
		email := api.SignInEmail
		if got, err = super.UpdateClient(ctx, "web", got.Version, api.OIDCClientUpdate{SignInMethod: &email}); err != nil || got.SignInMethod != api.SignInEmail {
			t.Fatalf("switching back: %+v, %v", got, err)
		}

		// A client that requires two factors (idp client add --require-mfa)
		// cannot become a phone client: number and PIN have no second step.
		strict, err := f.store.CreateClient(ctx, storage.Client{ID: "strict", Public: true, RequireMFA: true,
			RedirectURIs: []string{"https://strict.example/cb"}, GrantTypes: []string{storage.GrantAuthorizationCode}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := super.UpdateClient(ctx, "strict", strict.UpdatedAt.UnixMicro(), api.OIDCClientUpdate{SignInMethod: &phone}); fieldErr(err) == "" {
			t.Error("a client requiring two factors became a phone client")
		}
	})
}
