package adminapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

func TestClients(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		c := f.client(super)
		id := "billing-" + randHex(3)
		created, err := c.CreateClient(ctx, api.NewOIDCClient{ID: id, Name: "Billing",
			RedirectURIs: []string{"https://billing.example.com/cb"}, AdmitTypes: []api.UserType{api.UserTypeEmployee}})
		if err != nil {
			t.Fatal(err)
		}
		if len(created.Secret) < 32 || created.Client.Public || !slices.Equal(created.Client.GrantTypes, []string{"authorization_code", "refresh_token"}) {
			t.Fatalf("created %+v", created)
		}
		stored, _ := f.store.GetClient(ctx, id)
		if ok, _ := cheapHasher.VerifySecret(created.Secret, stored.SecretHash); !ok {
			t.Fatal("the secret answered is not the one stored")
		}
		// A generated secret (256 random bits) is stored as its SHA-256
		// digest: checking it needs no argon2id.
		if !password.IsGeneratedHash(stored.SecretHash) {
			t.Fatalf("generated secret stored as %.10s…, want the SHA-256 form", stored.SecretHash)
		}
		// The secret is shown once: never in reads, never in the audit log.
		got, err := c.GetClient(ctx, id)
		if err != nil || got.ID != id {
			t.Fatal(err)
		}
		raw := f.do("GET", api.BasePath+"/clients/"+id, f.token(super), "")
		log, _ := json.Marshal(f.audit(id))
		if strings.Contains(string(raw.body), created.Secret) || strings.Contains(string(log), created.Secret) ||
			strings.Contains(string(log), stored.SecretHash) {
			t.Fatal("secret or its hash shown again")
		}
		if _, err := c.CreateClient(ctx, api.NewOIDCClient{ID: id, RedirectURIs: []string{"https://x.example.com/cb"}}); code(err) != api.CodeAlreadyExists {
			t.Fatalf("duplicate id: %v", err)
		}
		if _, err := c.CreateClient(ctx, api.NewOIDCClient{ID: "x-" + randHex(3), RedirectURIs: []string{"http://example.com/cb"}}); code(err) != api.CodeValidation {
			t.Fatalf("http redirect: %v", err)
		}

		// Update, guarded by the version.
		name := "Billing v2"
		up, err := c.UpdateClient(ctx, id, got.Version, api.OIDCClientUpdate{Name: &name, Scopes: &[]string{"admin"}})
		if err != nil || up.Name != name || !slices.Equal(up.Scopes, []string{"admin"}) {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := c.UpdateClient(ctx, id, got.Version, api.OIDCClientUpdate{Name: &name}); code(err) != api.CodePreconditionFailed {
			t.Fatalf("stale update: %v", err)
		}
		bad := []string{"ftp://x"}
		if _, err := c.UpdateClient(ctx, id, up.Version, api.OIDCClientUpdate{RedirectURIs: &bad}); code(err) != api.CodeValidation {
			t.Fatalf("invalid update: %v", err)
		}
		if now, _ := c.GetClient(ctx, id); now.Version != up.Version {
			t.Fatal("refused update changed the client")
		}

		// Rotation: the new secret works, the old one does not.
		rot, err := c.RotateClientSecret(ctx, id)
		if err != nil || rot.Secret == created.Secret {
			t.Fatalf("rotate: %v", err)
		}
		stored, _ = f.store.GetClient(ctx, id)
		if ok, _ := cheapHasher.VerifySecret(rot.Secret, stored.SecretHash); !ok || !password.IsGeneratedHash(stored.SecretHash) {
			t.Fatal("rotated secret not stored in the SHA-256 form")
		}
		if ok, _ := cheapHasher.VerifySecret(created.Secret, stored.SecretHash); ok {
			t.Fatal("old secret still valid")
		}
		if _, err := c.RotateClientSecret(ctx, api.DesktopClientID); code(err) != api.CodeInvalidState {
			t.Fatalf("rotate a public client: %v", err)
		}

		// Delete.
		if err := c.DeleteClient(ctx, id, 1); code(err) != api.CodePreconditionFailed {
			t.Fatalf("stale delete: %v", err)
		}
		if err := c.DeleteClient(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetClient(ctx, id); code(err) != api.CodeNotFound {
			t.Fatalf("deleted client: %v", err)
		}
		var actions []string
		for _, e := range f.audit(id) {
			actions = append(actions, e.Action)
		}
		want := []string{api.ActionClientDelete, api.ActionClientRotateSecret, api.ActionClientUpdate, api.ActionClientCreate}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}
	})
}

func TestAuditVisibility(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		sc, ac := f.client(super), f.client(admin)
		otherAdmin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		emp := f.active(storage.UserTypeEmployee)
		title := "T"
		if _, err := sc.UpdateEmployee(ctx, otherAdmin.ID, otherAdmin.Version, api.EmployeeUpdate{JobTitle: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.UpdateEmployee(ctx, emp.ID, emp.Version, api.EmployeeUpdate{JobTitle: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.CreateClient(ctx, api.NewOIDCClient{ID: "c-" + randHex(3), Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}}); err != nil {
			t.Fatal(err)
		}
		all, err := sc.ListAudit(ctx, api.AuditOptions{Limit: 1})
		if err != nil || len(all.Items) != 1 || all.NextCursor == "" {
			t.Fatalf("super admin page: %+v %v", all, err)
		}
		var seen []string
		o := api.AuditOptions{Limit: 1}
		for {
			l, err := ac.ListAudit(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range l.Items {
				seen = append(seen, e.TargetType+":"+e.TargetID)
			}
			if l.NextCursor == "" {
				break
			}
			o.Cursor = l.NextCursor
		}
		if !slices.Equal(seen, []string{"user:" + emp.ID}) {
			t.Fatalf("admin sees %v; want only the plain employee's entry", seen)
		}
		mgr := f.client(f.active(storage.UserTypeEmployee, storage.RoleAssigningManager))
		if _, err := mgr.ListAudit(ctx, api.AuditOptions{}); code(err) != api.CodeForbidden {
			t.Fatalf("manager reads audit: %v", err)
		}
	})
}

func TestEnsureDesktopClient(t *testing.T) {
	f := newFixture(t, backends[0]) // ran once already
	ctx := context.Background()
	created, err := adminapi.EnsureDesktopClient(ctx, f.store, cheapHasher)
	if err != nil || created {
		t.Fatalf("second ensure: %v %v", created, err)
	}
	c := f.adminClient
	if !c.Public || !slices.Equal(c.Scopes, []string{"admin"}) || !slices.Contains(c.RedirectURIs, adminapi.DesktopRedirectURI) ||
		len(c.AdmitRoles) != 3 || c.Admits(storage.User{Type: storage.UserTypeEmployee}) ||
		!c.Admits(storage.User{Type: storage.UserTypeEmployee, Roles: []storage.Role{storage.RoleAssigningManager}}) {
		t.Fatalf("desktop client %+v", c)
	}
}
