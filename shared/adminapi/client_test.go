package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientCoversDocument calls every method of Client against a server
// that answers exactly the documented routes, and checks that the methods
// between them use every documented route and nothing else.
func TestClientCoversDocument(t *testing.T) {
	routes, err := DocumentedRoutes(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	hit := map[string]bool{}
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.HandleFunc(r, func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			hit[r] = true
			mu.Unlock()
			if r != "GET "+BasePath+"/openapi.json" && req.Header.Get("Authorization") != "Bearer tok" {
				t.Errorf("%s: Authorization %q", r, req.Header.Get("Authorization"))
			}
			if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
				if req.ContentLength > 0 && req.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s: Content-Type %q", r, req.Header.Get("Content-Type"))
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		t.Errorf("undocumented route called: %s %s", req.Method, req.URL.Path)
		http.NotFound(w, req)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := NewClient(srv.URL+"/", srv.Client(), StaticToken("tok"))
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := c.OpenAPI(ctx); return err },
		func() error { _, err := c.Me(ctx); return err },
		func() error { _, err := c.ListEmployees(ctx, ListUsersOptions{Search: "a", Limit: 2}); return err },
		func() error { _, err := c.GetEmployee(ctx, "u1"); return err },
		func() error { _, err := c.CreateEmployee(ctx, NewEmployee{}); return err },
		func() error { _, err := c.UpdateEmployee(ctx, "u1", 3, EmployeeUpdate{}); return err },
		func() error { _, err := c.SetEmployeeRoles(ctx, "u1", 3, nil); return err },
		func() error { _, err := c.DisableEmployee(ctx, "u1"); return err },
		func() error { _, err := c.EnableEmployee(ctx, "u1"); return err },
		func() error { return c.SendEmployeePasswordReset(ctx, "u1") },
		func() error { return c.ResendEmployeeInvitation(ctx, "u1") },
		func() error { _, err := c.ResetEmployeeMFA(ctx, "u1"); return err },
		func() error { _, err := c.ListClinicians(ctx, ListUsersOptions{Status: StatusActive}); return err },
		func() error { _, err := c.GetClinician(ctx, "u1"); return err },
		func() error { _, err := c.CreateClinician(ctx, NewClinician{}); return err },
		func() error { _, err := c.UpdateClinician(ctx, "u1", 3, ClinicianUpdate{}); return err },
		func() error { _, err := c.SetClinicianRoles(ctx, "u1", 3, nil); return err },
		func() error { _, err := c.DisableClinician(ctx, "u1"); return err },
		func() error { _, err := c.EnableClinician(ctx, "u1"); return err },
		func() error { return c.SendClinicianPasswordReset(ctx, "u1") },
		func() error { return c.ResendClinicianInvitation(ctx, "u1") },
		func() error { _, err := c.GetClinicianMobile(ctx, "u1"); return err },
		func() error { _, err := c.SendClinicianMobileActivation(ctx, "u1"); return err },
		func() error { _, err := c.ResetClinicianMobile(ctx, "u1"); return err },
		func() error { return c.EndClinicianMobileSessions(ctx, "u1") },
		func() error { _, err := c.ResetClinicianMFA(ctx, "u1"); return err },
		func() error { _, err := c.ListClients(ctx); return err },
		func() error { _, err := c.GetClient(ctx, "c1"); return err },
		func() error { _, err := c.CreateClient(ctx, NewOIDCClient{}); return err },
		func() error { _, err := c.UpdateClient(ctx, "c1", 1, OIDCClientUpdate{}); return err },
		func() error { _, err := c.RotateClientSecret(ctx, "c1"); return err },
		func() error { return c.DeleteClient(ctx, "c1", 0) },
		func() error { _, err := c.ListAudit(ctx, AuditOptions{From: time.Now(), Actor: "u1"}); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	for _, r := range routes {
		if !hit[r] {
			t.Errorf("documented route %s has no client method", r)
		}
	}
}

func TestClientErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case BasePath + "/employees":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(ErrorBody{Error: &Error{Code: CodeValidation, Message: "bad", Fields: map[string]string{"email": "is required"}}})
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>proxy</html>"))
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, nil, nil)
	_, err := c.CreateEmployee(context.Background(), NewEmployee{})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != CodeValidation || e.Fields["email"] != "is required" {
		t.Fatalf("err = %#v", err)
	}
	if !IsCode(err, CodeValidation) || !errors.Is(err, &Error{Code: CodeValidation}) {
		t.Error("IsCode / errors.Is do not match the code")
	}
	_, err = c.Me(context.Background())
	if !IsCode(err, CodeUnavailable) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("non-API error answer: %v", err)
	}
}

func TestErrorCodesHaveStatus(t *testing.T) {
	for c, s := range ErrorCodes {
		if s < 400 || s > 599 || c.Status() != s {
			t.Errorf("%s: status %d", c, s)
		}
	}
	if ErrorCode("nope").Status() != 500 {
		t.Error("unknown code must be 500")
	}
	if !slices.Contains(Permissions, PermAuditAll) || len(Permissions) != 18 {
		t.Errorf("Permissions = %v", Permissions)
	}
}
