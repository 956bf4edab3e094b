package adminapi_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestLastSuperAdmin: of two super admins taking each other's rights away
// (disable or demote), exactly one succeeds and the other is refused with
// last_super_admin, whatever the timing. Both requests are authenticated
// (their callers read as active super admins) before either transaction
// begins, so no other check can refuse the second one:
//
//   - in sequence: the first request is held before its transaction
//     while the second runs to the end; the first must then be refused;
//   - at once: both transactions start together and each waits (up to a
//     second) for the other before counting the super admins left, so
//     two transactions that do not exclude each other both see the other
//     super admin still active.
func TestLastSuperAdmin(t *testing.T) {
	type move func(c *api.Client, target storage.User) error
	disable := func(c *api.Client, target storage.User) error {
		_, err := c.DisableEmployee(context.Background(), target.ID)
		return err
	}
	demote := func(c *api.Client, target storage.User) error {
		_, err := c.SetEmployeeRoles(context.Background(), target.ID, target.Version, nil)
		return err
	}
	moves := []struct {
		name   string
		ab, ba move // a's move on b, b's move on a
	}{
		{"disable", disable, disable},
		{"demote", demote, demote},
		{"disable and demote", disable, demote},
	}
	forEachBackend(t, func(t *testing.T, f *fixture) {
		for _, m := range moves {
			t.Run("in sequence/"+m.name, func(t *testing.T) {
				var begun atomic.Int64
				held, release := make(chan struct{}), make(chan struct{})
				h := f.withHooks(&hooks{beginTx: func() {
					if begun.Add(1) == 1 {
						close(held)
						<-release
					}
				}})
				a, b := f.superAdminPair()
				var errA error
				done := make(chan struct{})
				go func() { defer close(done); errA = m.ab(h.client(a), b) }()
				<-held // a is authenticated and about to begin
				errB := m.ba(h.client(b), a)
				close(release)
				<-done
				if errB != nil || code(errA) != api.CodeLastSuperAdmin {
					t.Fatalf("b first: %v; then a: %v, want success then last_super_admin", errB, errA)
				}
				f.checkOneSuperAdminLeft(t)
			})
		}
		for _, m := range moves {
			t.Run("at once/"+m.name, func(t *testing.T) {
				start := newMeeting(2, 20*time.Second)
				count := newMeeting(2, time.Second)
				h := f.withHooks(&hooks{
					beginTx: start.wait,
					listUsers: func(q storage.UserQuery) {
						if q.Role == storage.RoleSuperAdmin {
							count.wait()
						}
					},
				})
				a, b := f.superAdminPair()
				var errs [2]error
				var wg sync.WaitGroup
				wg.Go(func() { errs[0] = m.ab(h.client(a), b) })
				wg.Go(func() { errs[1] = m.ba(h.client(b), a) })
				wg.Wait()
				got := map[string]int{}
				for _, err := range errs {
					got[string(code(err))]++
				}
				if got[""] != 1 || got[string(api.CodeLastSuperAdmin)] != 1 {
					t.Fatalf("outcomes %v (%v), want one success and one last_super_admin", got, errs)
				}
				f.checkOneSuperAdminLeft(t)
			})
		}
	})
}

// superAdminPair retires every active super admin behind the API's back
// and creates two new ones: the only two.
func (f *fixture) superAdminPair() (a, b storage.User) {
	f.t.Helper()
	ctx := context.Background()
	left, _, err := f.store.ListUsers(ctx, storage.UserQuery{Role: storage.RoleSuperAdmin, Status: storage.StatusActive, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, u := range left {
		if _, err := f.store.UpdateUser(ctx, u.ID, 0, func(u *storage.User) error {
			u.Status = storage.StatusDisabled
			return nil
		}); err != nil {
			f.t.Fatal(err)
		}
	}
	return f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin), f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
}

func (f *fixture) checkOneSuperAdminLeft(t *testing.T) {
	t.Helper()
	left, _, err := f.store.ListUsers(context.Background(), storage.UserQuery{Role: storage.RoleSuperAdmin, Status: storage.StatusActive, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 {
		var ids []string
		for _, u := range left {
			ids = append(ids, fmt.Sprintf("%s %v", u.ID, u.Roles))
		}
		t.Fatalf("%d active super admins left, want 1: %v", len(left), ids)
	}
}
