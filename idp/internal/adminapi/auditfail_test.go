package adminapi_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

var errAuditDown = errors.New("audit log unavailable (injected)")

// TestAuditFailureRollsBack: when the audit entry of an admin change
// cannot be written, the change is not made either — the record, its
// grants, the mail it would send, all stay as they were. The failure is
// injected into the audit write of the change's own transaction, so an
// entry written anywhere else (after the commit, or beside the
// transaction) shows up as a change made without its failing audit entry.
func TestAuditFailureRollsBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		var mu sync.Mutex
		var attempted []string
		hooked := f.withHooks(&hooks{audit: func(e storage.AuditEntry) error {
			mu.Lock()
			defer mu.Unlock()
			attempted = append(attempted, e.Action)
			return errAuditDown
		}})
		c := hooked.client(super)
		sc := f.withHooks(&hooks{}).client(super) // no failure injected
		title := "Charge nurse"
		name := "Renamed"
		cases := []struct {
			name   string
			action string
			run    func(t *testing.T) (error, func(t *testing.T))
		}{
			{"disable", api.ActionEmployeeDisable, func(t *testing.T) (error, func(*testing.T)) {
				u := f.active(storage.UserTypeEmployee)
				_, err := c.DisableEmployee(ctx, u.ID)
				return err, unchangedUser(f, u)
			}},
			{"set roles", api.ActionEmployeeSetRoles, func(t *testing.T) (error, func(*testing.T)) {
				u := f.active(storage.UserTypeEmployee)
				_, err := c.SetEmployeeRoles(ctx, u.ID, u.Version, []api.Role{api.RoleAdmin})
				return err, unchangedUser(f, u)
			}},
			{"update", api.ActionEmployeeUpdate, func(t *testing.T) (error, func(*testing.T)) {
				u := f.active(storage.UserTypeEmployee)
				_, err := c.UpdateEmployee(ctx, u.ID, u.Version, api.EmployeeUpdate{JobTitle: &title})
				return err, unchangedUser(f, u)
			}},
			{"enable", api.ActionEmployeeEnable, func(t *testing.T) (error, func(*testing.T)) {
				u := f.user(storage.UserTypeEmployee, storage.StatusDisabled)
				_, err := c.EnableEmployee(ctx, u.ID)
				return err, unchangedUser(f, u)
			}},
			{"create", api.ActionEmployeeCreate, func(t *testing.T) (error, func(*testing.T)) {
				email := "new-" + randHex(4) + "@example.com"
				_, err := c.CreateEmployee(ctx, api.NewEmployee{GivenName: "New", FamilyName: "Hire", Email: email})
				return err, func(t *testing.T) {
					if _, err := f.store.GetUserByEmail(ctx, email); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("the employee was created: %v", err)
					}
					if m := f.messages(email); len(m) != 0 {
						t.Errorf("an invitation was queued: %d", len(m))
					}
				}
			}},
			{"password reset", api.ActionEmployeePasswordReset, func(t *testing.T) (error, func(*testing.T)) {
				u := f.active(storage.UserTypeEmployee)
				err := c.SendEmployeePasswordReset(ctx, u.ID)
				return err, func(t *testing.T) {
					if m := f.messages(u.Email); len(m) != 0 {
						t.Errorf("a reset link was queued: %d", len(m))
					}
				}
			}},
			{"create client", api.ActionClientCreate, func(t *testing.T) (error, func(*testing.T)) {
				id := "svc-" + randHex(4)
				_, err := c.CreateClient(ctx, api.NewOIDCClient{ID: id, Name: "Svc", RedirectURIs: []string{"https://svc.example.com/cb"}})
				return err, func(t *testing.T) {
					if _, err := f.store.GetClient(ctx, id); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("the client was created: %v", err)
					}
				}
			}},
			{"update client", api.ActionClientUpdate, func(t *testing.T) (error, func(*testing.T)) {
				cl := newClient(t, sc)
				check := unchangedClient(f, cl.ID)
				_, err := c.UpdateClient(ctx, cl.ID, cl.Version, api.OIDCClientUpdate{Name: &name})
				return err, check
			}},
			{"rotate client secret", api.ActionClientRotateSecret, func(t *testing.T) (error, func(*testing.T)) {
				cl := newClient(t, sc)
				check := unchangedClient(f, cl.ID)
				_, err := c.RotateClientSecret(ctx, cl.ID)
				return err, check
			}},
			{"delete client", api.ActionClientDelete, func(t *testing.T) (error, func(*testing.T)) {
				cl := newClient(t, sc)
				check := unchangedClient(f, cl.ID)
				err := c.DeleteClient(ctx, cl.ID, cl.Version)
				return err, check
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mu.Lock()
				attempted = nil
				mu.Unlock()
				err, check := tc.run(t)
				var e *api.Error
				if !errors.As(err, &e) || e.Status < 500 {
					t.Fatalf("answer: %v, want a 5xx", err)
				}
				mu.Lock()
				got := slices.Clone(attempted)
				mu.Unlock()
				if len(got) != 1 || got[0] != tc.action {
					t.Fatalf("audit writes attempted in the transaction: %v, want [%s]", got, tc.action)
				}
				check(t)
			})
		}
		// Nothing reached the audit log; where it works, the same change
		// goes through.
		es, _, err := f.store.ListAudit(ctx, storage.AuditQuery{ActorID: super.ID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Action != api.ActionClientCreate { // the setup's, without hooks
				t.Errorf("audit entry %s %s written", e.Action, e.TargetID)
			}
		}
		if _, err := sc.DisableEmployee(ctx, f.active(storage.UserTypeEmployee).ID); err != nil {
			t.Fatalf("without the failure: %v", err)
		}
	})
}

// unchangedUser checks that u's record is as it was, and that it has no
// audit entry.
func unchangedUser(f *fixture, u storage.User) func(t *testing.T) {
	return func(t *testing.T) {
		got := f.get(u.ID)
		if got.Version != u.Version || got.Status != u.Status || len(got.Roles) != len(u.Roles) || got.JobTitle != u.JobTitle {
			t.Errorf("the record changed: %+v, was %+v", got, u)
		}
		if es := f.audit(u.ID); len(es) != 0 {
			t.Errorf("audit entries: %+v", es)
		}
	}
}

// newClient creates a confidential client through the API (audited).
func newClient(t *testing.T, c *api.Client) api.OIDCClient {
	t.Helper()
	out, err := c.CreateClient(context.Background(), api.NewOIDCClient{ID: "app-" + randHex(4), Name: "App",
		RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Client
}

// unchangedClient checks that the client id still exists as created.
func unchangedClient(f *fixture, id string) func(t *testing.T) {
	before, err := f.store.GetClient(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return func(t *testing.T) {
		got, err := f.store.GetClient(context.Background(), id)
		if err != nil {
			t.Fatalf("the client is gone: %v", err)
		}
		if got.Name != before.Name || got.SecretHash != before.SecretHash || !got.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("the client changed: %+v, was %+v", got, before)
		}
	}
}
