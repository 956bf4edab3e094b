package adminapi_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// traces counts what a create leaves behind: users, queued messages and
// audit entries, over the whole store.
type traces struct{ users, messages, audit int }

func (f *fixture) traces() traces {
	f.t.Helper()
	ctx := context.Background()
	var tr traces
	for _, typ := range []storage.UserType{storage.UserTypeEmployee, storage.UserTypeClinician} {
		after := ""
		for {
			us, next, err := f.store.ListUsers(ctx, storage.UserQuery{Type: typ, After: after, Limit: 500})
			if err != nil {
				f.t.Fatal(err)
			}
			tr.users += len(us)
			if after = next; after == "" {
				break
			}
		}
	}
	msgs, err := f.store.ListMessages(ctx, storage.MessageQuery{Limit: 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	tr.messages = len(msgs)
	es, _, err := f.store.ListAudit(ctx, storage.AuditQuery{Limit: 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	tr.audit = len(es)
	return tr
}

// sameError: a and b are the same answer of the API (status, code,
// message, fields).
func sameError(a, b error) bool {
	var ea, eb *api.Error
	if !errors.As(a, &ea) || !errors.As(b, &eb) {
		return a == nil && b == nil
	}
	return ea.Status == eb.Status && ea.Code == eb.Code && ea.Message == eb.Message && maps.Equal(ea.Fields, eb.Fields)
}

// A dry run of a create answers exactly what the create answers — the
// members' validation (400 with fields), roles the caller may not grant,
// a taken email or phone (409) — and 204 when the create would succeed,
// and it leaves nothing behind: no user, no invitation, no audit entry.
func TestCreateDryRun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		taken := f.active(storage.UserTypeClinician)
		c := f.client(admin)
		good := func() api.NewClinician {
			return api.NewClinician{GivenName: "Mary", FamilyName: "Seacole", Email: "ms-" + randHex(4) + "@Example.com",
				Phone: f.phone(), Discipline: "rn", Roles: []api.Role{api.RoleAssigningManager}}
		}
		cases := []struct {
			name  string
			mod   func(*api.NewClinician)
			code  api.ErrorCode
			field string
		}{
			{"valid", func(*api.NewClinician) {}, "", ""},
			{"no given name", func(n *api.NewClinician) { n.GivenName = " " }, api.CodeValidation, "given_name"},
			{"bad email", func(n *api.NewClinician) { n.Email = "Mary <ms@example.com>" }, api.CodeValidation, "email"},
			{"phone not international", func(n *api.NewClinician) { n.Phone = "415 555 0100" }, api.CodeValidation, "phone"},
			{"no discipline", func(n *api.NewClinician) { n.Discipline = "" }, api.CodeValidation, "discipline"},
			{"unknown role", func(n *api.NewClinician) { n.Roles = []api.Role{"boss"} }, api.CodeValidation, "roles"},
			{"role the caller may not grant", func(n *api.NewClinician) { n.Roles = []api.Role{api.RoleAdmin} }, api.CodeRoleNotGrantable, ""},
			{"taken email (other case)", func(n *api.NewClinician) { n.Email = upperLocal(taken.Email) }, api.CodeAlreadyExists, "email"},
			{"taken phone", func(n *api.NewClinician) { n.Phone = taken.Phone }, api.CodeAlreadyExists, "phone"},
		}
		for _, tc := range cases {
			in := good()
			tc.mod(&in)
			before := f.traces()
			dry := c.DryRunCreateClinician(ctx, in)
			if got := f.traces(); got != before {
				t.Fatalf("%s: the dry run left traces: %+v, before %+v", tc.name, got, before)
			}
			if code(dry) != tc.code {
				t.Errorf("%s: dry run = %v, want code %q", tc.name, dry, tc.code)
			}
			if tc.field != "" {
				var e *api.Error
				if !errors.As(dry, &e) || e.Fields[tc.field] == "" {
					t.Errorf("%s: dry run %v names no %s", tc.name, dry, tc.field)
				}
			}
			_, real := c.CreateClinician(ctx, in)
			if !sameError(dry, real) {
				t.Errorf("%s: dry run answered %v, the create %v", tc.name, dry, real)
			}
			if tc.code == "" {
				// Now the address is taken: the dry run of the same
				// request says so, as a second create would.
				again := c.DryRunCreateClinician(ctx, in)
				_, real := c.CreateClinician(ctx, in)
				if code(again) != api.CodeAlreadyExists || !sameError(again, real) {
					t.Errorf("dry run after the create = %v, the create %v", again, real)
				}
			}
		}

		// Employees take the same route shape.
		e := api.NewEmployee{GivenName: "Ada", FamilyName: "Byron", Email: "ab-" + randHex(4) + "@example.com"}
		before := f.traces()
		if err := c.DryRunCreateEmployee(ctx, e); err != nil {
			t.Fatalf("employee dry run: %v", err)
		}
		e.Email = taken.Email
		if err := c.DryRunCreateEmployee(ctx, e); code(err) != api.CodeAlreadyExists {
			t.Fatalf("employee dry run with a clinician's email: %v", err)
		}
		if got := f.traces(); got != before {
			t.Fatalf("employee dry runs left traces: %+v, before %+v", got, before)
		}
	})
}

func upperLocal(email string) string {
	b := []byte(email)
	for i := 0; i < len(b) && b[i] != '@'; i++ {
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// Only dry_run=true|false is accepted: a misspelt dry run is refused, not
// taken for a create.
func TestCreateDryRunQueryIsStrict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		tok := f.token(admin)
		body := func() string {
			return `{"given_name":"Ada","family_name":"Byron","email":"ab-` + randHex(4) + `@example.com"}`
		}
		before := f.traces()
		for _, q := range []string{"dryrun=true", "dry_run=1", "dry_run=yes", "dry_run=", "dry_run=true&dry_run=true", "dry_run=true&x=1", "dry_run=%zz"} {
			r := f.do(http.MethodPost, api.BasePath+"/employees?"+q, tok, body())
			if r.status != http.StatusBadRequest || r.errorBody(t).Code != api.CodeInvalidQuery {
				t.Errorf("?%s: %d %s, want 400 invalid_query", q, r.status, r.body)
			}
		}
		if got := f.traces(); got != before {
			t.Fatalf("refused queries left traces: %+v, before %+v", got, before)
		}
		if r := f.do(http.MethodPost, api.BasePath+"/employees?dry_run=true", tok, body()); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Errorf("dry_run=true: %d %s, want 204 without a body", r.status, r.body)
		}
		if got := f.traces(); got != before {
			t.Fatalf("dry_run=true left traces: %+v, before %+v", got, before)
		}
		if r := f.do(http.MethodPost, api.BasePath+"/employees?dry_run=false", tok, body()); r.status != http.StatusCreated {
			t.Errorf("dry_run=false: %d %s, want 201", r.status, r.body)
		}
		// The caller needs the create's permission to dry-run it.
		manager := f.active(storage.UserTypeEmployee, storage.RoleAssigningManager)
		err := f.client(manager).DryRunCreateClinician(context.Background(), api.NewClinician{GivenName: "A", FamilyName: "B",
			Email: "x-" + randHex(4) + "@example.com", Phone: f.phone(), Discipline: "RN"})
		if code(err) != api.CodeForbidden {
			t.Errorf("manager's clinician dry run: %v, want forbidden", err)
		}
	})
}
