package adminapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestBadRequests: malformed input gets a 400 (or the documented status)
// with a stable code, and changes nothing.
func TestBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		tok := f.token(super)
		emp := f.active(storage.UserTypeEmployee)
		employees := api.BasePath + "/employees"
		item := employees + "/" + emp.ID
		ifMatch := []string{"If-Match", api.ETag(emp.Version)}
		huge := `{"given_name":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`
		cases := []struct {
			name, method, path, body string
			header                   []string
			status                   int
			code                     api.ErrorCode
			field                    string
		}{
			{"malformed JSON", "POST", employees, `{"given_name":`, nil, 400, api.CodeInvalidJSON, ""},
			{"not an object", "POST", employees, `["a"]`, nil, 400, api.CodeInvalidJSON, ""},
			{"null", "POST", employees, `null`, nil, 400, api.CodeInvalidJSON, ""},
			{"trailing data", "POST", employees, `{"given_name":"A","family_name":"B","email":"ab@example.com"} {}`, nil, 400, api.CodeInvalidJSON, ""},
			{"unknown field", "POST", employees, `{"given_name":"A","family_name":"B","email":"ab@example.com","is_admin":true}`, nil, 400, api.CodeInvalidJSON, "is_admin"},
			{"wrong type", "POST", employees, `{"given_name":5,"family_name":"B","email":"ab@example.com"}`, nil, 400, api.CodeInvalidJSON, "given_name"},
			{"body too large", "POST", employees, huge, nil, 400, api.CodeBodyTooLarge, ""},
			{"empty body", "POST", employees, ` `, nil, 400, api.CodeInvalidJSON, ""},
			{"bad email", "POST", employees, `{"given_name":"A","family_name":"B","email":"not-an-address"}`, nil, 400, api.CodeValidation, "email"},
			{"display-name email", "POST", employees, `{"given_name":"A","family_name":"B","email":"A B <ab@example.com>"}`, nil, 400, api.CodeValidation, "email"},
			{"bad phone", "POST", employees, `{"given_name":"A","family_name":"B","email":"ab@example.com","phone":"12345"}`, nil, 400, api.CodeValidation, "phone"},
			{"missing name", "POST", employees, `{"family_name":"B","email":"ab@example.com"}`, nil, 400, api.CodeValidation, "given_name"},
			{"control character", "POST", employees, `{"given_name":"A\u0007","family_name":"B","email":"ab@example.com"}`, nil, 400, api.CodeValidation, "given_name"},
			{"unknown role", "POST", employees, `{"given_name":"A","family_name":"B","email":"ab@example.com","roles":["root"]}`, nil, 400, api.CodeValidation, "roles"},
			{"discipline on an employee", "PATCH", item, `{"discipline":"RN"}`, ifMatch, 400, api.CodeInvalidJSON, "discipline"},
			{"email taken", "PATCH", item, `{"email":"` + super.Email + `"}`, ifMatch, 409, api.CodeAlreadyExists, "email"},
			{"bad email on update", "PATCH", item, `{"email":"x"}`, ifMatch, 400, api.CodeValidation, "email"},
			{"form body", "POST", employees, `given_name=A`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, api.CodeUnsupportedMediaType, ""},
			{"no content type", "POST", employees, `{}`, []string{"Content-Type", ""}, 415, api.CodeUnsupportedMediaType, ""},
			{"If-Match garbage", "PATCH", item, `{"job_title":"X"}`, []string{"If-Match", "abc"}, 412, api.CodePreconditionFailed, ""},
			{"If-Match weak", "PATCH", item, `{"job_title":"X"}`, []string{"If-Match", "W/" + api.ETag(emp.Version)}, 412, api.CodePreconditionFailed, ""},
			{"no precondition", "PATCH", item, `{"job_title":"X"}`, nil, 428, api.CodePreconditionRequired, ""},
			{"roles missing", "PUT", item + "/roles", `{}`, ifMatch, 400, api.CodeValidation, "roles"},
			{"action with unknown body field", "POST", item + "/disable", `{"why":"x"}`, nil, 400, api.CodeInvalidJSON, "why"},
			{"unknown id", "GET", employees + "/nope", "", nil, 404, api.CodeNotFound, ""},
			{"unknown route", "GET", api.BasePath + "/nope", "", nil, 404, api.CodeNotFound, ""},
			{"wrong method", "DELETE", item, "", nil, 405, api.CodeMethodNotAllowed, ""},
			{"bad audit time", "GET", api.BasePath + "/audit?from=yesterday", "", nil, 400, api.CodeInvalidQuery, "from"},
		}
		users, _ := f.store.CountUsers(ctx)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do(tc.method, tc.path, tok, tc.body, tc.header...)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
				}
				e := r.errorBody(t)
				if e.Code != tc.code || e.Message == "" {
					t.Fatalf("error %+v, want code %s", e, tc.code)
				}
				if tc.field != "" && e.Fields[tc.field] == "" {
					t.Errorf("fields %v lack %q", e.Fields, tc.field)
				}
				if strings.Contains(string(r.body), "sql") || strings.Contains(string(r.body), ".go") {
					t.Errorf("error body leaks internals: %s", r.body)
				}
				if got := f.get(emp.ID); got.Version != emp.Version {
					t.Fatalf("a refused request changed the record")
				}
				if n, _ := f.store.CountUsers(ctx); n != users {
					t.Fatalf("a refused request created a user")
				}
			})
		}
		r := f.do("DELETE", item, tok, "")
		if allow := r.header.Values("Allow"); len(allow) == 0 || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("405 without Allow or JSON: %v", r.header)
		}
		if n := len(f.audit(emp.ID)); n != 0 {
			t.Errorf("refused requests were audited: %d entries", n)
		}
		if r := f.do("GET", api.BasePath+"/me", tok, ""); r.header.Get("Cache-Control") != "no-store" || r.status != http.StatusOK {
			t.Errorf("answers must not be cached: %v", r.header)
		}
	})
}
