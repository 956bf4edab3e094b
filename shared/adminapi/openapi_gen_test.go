package adminapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the route list and types")

// TestOpenAPIDocument regenerates the document from docRoutes and the Go
// types by reflection, and fails when the embedded openapi.json differs:
// the types and the document cannot drift apart.
func TestOpenAPIDocument(t *testing.T) {
	got := generateOpenAPI(t)
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, openAPIDocument) {
		t.Fatal("openapi.json is stale: run go test ./shared/adminapi -run TestOpenAPIDocument -update")
	}
}

// param is a query parameter.
type param struct {
	name, typ, desc string
	enum            []string
}

// docOp is one documented operation.
type docOp struct {
	method, path, id, summary string
	perms                     []Permission // documented as x-permissions; none: any role
	public                    bool         // no token needed
	query                     []param
	body                      any // request type (zero value) or nil
	status                    int
	resp                      any // response type (zero value) or nil
	precondition              bool
	// also is another success answer: its status and description.
	also    *altResp
	ifMatch bool // If-Match accepted (optional unless precondition)
	errors  []int
}

// altResp is a second success answer of an operation, without a body.
type altResp struct {
	status int
	desc   string
}

// dryRunParam and dryRunResp document a create's dry run.
var (
	dryRunParam = param{name: "dry_run", typ: "boolean",
		desc: "true: check the request exactly as a create (members, roles the caller may grant, a taken email or phone) " +
			"and answer with the same errors, or 204; nothing is created, sent or audited"}
	dryRunResp = &altResp{status: 204, desc: "dry_run=true: the create would succeed; nothing was created"}
)

var listUserParams = []param{
	{name: "q", typ: "string", desc: "case-insensitive part of the name, email or phone"},
	{name: "status", typ: "string", desc: "only users with this status", enum: enumOf(reflect.TypeFor[UserStatus]())},
	{name: "role", typ: "string", desc: "only users holding this role", enum: enumOf(reflect.TypeFor[Role]())},
	{name: "cursor", typ: "string", desc: "next_cursor of the previous page"},
	{name: "limit", typ: "integer", desc: "page size, 1–500 (default 50)"},
}

func userOps(section, one string, create, upd any, read, write, roles, status, notify Permission) []docOp {
	base := BasePath + "/" + section
	item := base + "/{id}"
	return []docOp{
		{method: "GET", path: base, id: "list" + title(section), summary: "List and search " + section + " (stable order, cursor pagination)",
			perms: []Permission{read}, query: listUserParams, status: 200, resp: UserList{}, errors: []int{400}},
		{method: "POST", path: base, id: "create" + title(one), summary: "Create a" + an(one) + " " + one + " and send the invitation",
			perms: []Permission{write}, query: []param{dryRunParam}, body: create, status: 201, resp: User{}, also: dryRunResp,
			errors: []int{400, 409, 415}},
		{method: "GET", path: item, id: "get" + title(one), summary: "Get a" + an(one) + " " + one + " (ETag: the version)",
			perms: []Permission{read}, status: 200, resp: User{}, errors: []int{404}},
		{method: "PATCH", path: item, id: "update" + title(one), summary: "Change profile fields; needs If-Match or version",
			perms: []Permission{write}, body: upd, status: 200, resp: User{}, precondition: true, ifMatch: true, errors: []int{400, 404, 409, 412, 415, 428}},
		{method: "PUT", path: item + "/roles", id: "set" + title(one) + "Roles", summary: "Replace the roles; needs If-Match or version",
			perms: []Permission{roles}, body: RolesUpdate{}, status: 200, resp: User{}, precondition: true, ifMatch: true, errors: []int{400, 404, 409, 412, 415, 428}},
		{method: "POST", path: item + "/disable", id: "disable" + title(one), summary: "Disable: no sign-in; sessions and tokens revoked at once",
			perms: []Permission{status}, status: 200, resp: User{}, ifMatch: true, errors: []int{404, 409, 412}},
		{method: "POST", path: item + "/enable", id: "enable" + title(one), summary: "Enable a disabled user",
			perms: []Permission{status}, status: 200, resp: User{}, ifMatch: true, errors: []int{404, 409, 412}},
		{method: "POST", path: item + "/password-reset", id: "send" + title(one) + "PasswordReset", summary: "Email a password reset link",
			perms: []Permission{notify}, status: 204, errors: []int{404, 409}},
		{method: "POST", path: item + "/invitation", id: "resend" + title(one) + "Invitation", summary: "Re-send the invitation to a user who has not accepted it",
			perms: []Permission{notify}, status: 204, errors: []int{404, 409}},
		{method: "POST", path: item + "/mfa/reset", id: "reset" + title(one) + "MFA", summary: "Remove the authenticator app and recovery codes (a lost phone) and end the user's sessions; the user is emailed",
			perms: []Permission{mfaPerm(section)}, status: 200, resp: User{}, errors: []int{404, 409}},
	}
}

// mfaPerm is the permission that resets a second factor in section.
func mfaPerm(section string) Permission {
	if section == "clinicians" {
		return PermCliniciansMFA
	}
	return PermEmployeesMFA
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
func an(s string) string {
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "n"
	}
	return ""
}

func docRoutes() []docOp {
	ops := []docOp{
		{method: "GET", path: BasePath + "/openapi.json", id: "getOpenAPI", summary: "This document", public: true, status: 200},
		{method: "GET", path: BasePath + "/me", id: "getMe", summary: "The caller's profile and effective permissions", status: 200, resp: Me{}},
	}
	ops = append(ops, userOps("employees", "employee", NewEmployee{}, EmployeeUpdate{},
		PermEmployeesRead, PermEmployeesWrite, PermEmployeesRoles, PermEmployeesStatus, PermEmployeesNotify)...)
	ops = append(ops, userOps("clinicians", "clinician", NewClinician{}, ClinicianUpdate{},
		PermCliniciansRead, PermCliniciansWrite, PermCliniciansRoles, PermCliniciansStatus, PermCliniciansNotify)...)
	mobile := BasePath + "/clinicians/{id}/mobile"
	ops = append(ops,
		docOp{method: "GET", path: mobile, id: "getClinicianMobile", summary: "A clinician's mobile credential: state, phone, activation, last sign-in, live mobile sessions",
			perms: []Permission{PermCliniciansMobile}, status: 200, resp: MobileCredential{}, errors: []int{404}},
		docOp{method: "POST", path: mobile + "/activation", id: "sendClinicianMobileActivation", summary: "Send an activation code by SMS to the clinician's phone",
			perms: []Permission{PermCliniciansMobile}, status: 200, resp: MobileCredential{}, errors: []int{404, 409, 503}},
		docOp{method: "POST", path: mobile + "/reset", id: "resetClinicianMobile", summary: "Clear the PIN and end the mobile sessions; the clinician activates again",
			perms: []Permission{PermCliniciansMobile}, status: 200, resp: MobileCredential{}, errors: []int{404}},
		docOp{method: "DELETE", path: mobile + "/sessions", id: "endClinicianMobileSessions", summary: "End every mobile session of the clinician; the PIN stays",
			perms: []Permission{PermCliniciansMobile}, status: 204, errors: []int{404}},
	)
	clients, client := BasePath+"/clients", BasePath+"/clients/{id}"
	ops = append(ops,
		docOp{method: "GET", path: clients, id: "listClients", summary: "List OIDC clients", perms: []Permission{PermClientsRead}, status: 200, resp: OIDCClientList{}},
		docOp{method: "POST", path: clients, id: "createClient", summary: "Register a client; a confidential client's secret is returned once",
			perms: []Permission{PermClientsWrite}, body: NewOIDCClient{}, status: 201, resp: OIDCClientWithSecret{}, errors: []int{400, 409, 415}},
		docOp{method: "GET", path: client, id: "getClient", summary: "Get a client (ETag: the version)", perms: []Permission{PermClientsRead}, status: 200, resp: OIDCClient{}, errors: []int{404}},
		docOp{method: "PATCH", path: client, id: "updateClient", summary: "Change a client; needs If-Match or version",
			perms: []Permission{PermClientsWrite}, body: OIDCClientUpdate{}, status: 200, resp: OIDCClient{}, precondition: true, ifMatch: true, errors: []int{400, 404, 409, 412, 415, 428}},
		docOp{method: "POST", path: client + "/secret", id: "rotateClientSecret", summary: "Replace a confidential client's secret; returned once",
			perms: []Permission{PermClientsWrite}, status: 200, resp: OIDCClientWithSecret{}, ifMatch: true, errors: []int{404, 409, 412}},
		docOp{method: "DELETE", path: client, id: "deleteClient", summary: "Delete a client and every token issued to it",
			perms: []Permission{PermClientsWrite}, status: 204, ifMatch: true, errors: []int{404, 412}},
		docOp{method: "GET", path: BasePath + "/audit", id: "listAudit", summary: "The audit log, newest first (audit.all: every entry; audit.records: entries of users the caller may view)",
			perms: []Permission{PermAuditAll, PermAuditRecords}, status: 200, resp: AuditList{}, errors: []int{400},
			query: []param{
				{name: "actor", typ: "string", desc: "user id of the actor"},
				{name: "target", typ: "string", desc: "id of the changed record"},
				{name: "action", typ: "string", desc: "e.g. employee.disable"},
				{name: "from", typ: "date-time", desc: "entries at or after (RFC 3339)"},
				{name: "to", typ: "date-time", desc: "entries before (RFC 3339)"},
				{name: "cursor", typ: "string", desc: "next_cursor of the previous page"},
				{name: "limit", typ: "integer", desc: "page size, 1–500 (default 50)"},
			}},
	)
	return ops
}

// schemas collects component schemas while operations are generated.
type schemas map[string]any

func generateOpenAPI(t *testing.T) []byte {
	t.Helper()
	comp := schemas{}
	paths := map[string]map[string]any{}
	for _, op := range docRoutes() {
		o := map[string]any{"operationId": op.id, "summary": op.summary}
		var params []any
		if strings.Contains(op.path, "{id}") {
			params = append(params, map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, p := range op.query {
			s := map[string]any{"type": p.typ}
			switch p.typ {
			case "date-time":
				s = map[string]any{"type": "string", "format": "date-time"}
			case "integer":
				s["minimum"], s["maximum"] = 1, 500
			}
			if p.enum != nil {
				s["enum"] = p.enum
			}
			params = append(params, map[string]any{"name": p.name, "in": "query", "description": p.desc, "schema": s})
		}
		if op.ifMatch {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "required": false,
				"description": `the record's ETag ("<version>"); a stale one gives 412 and changes nothing`,
				"schema":      map[string]any{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": comp.of(reflect.TypeOf(op.body))}}}
		}
		resp := map[string]any{}
		ok := map[string]any{"description": http.StatusText(op.status)}
		switch {
		case op.resp != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": comp.of(reflect.TypeOf(op.resp))}}
		case op.status != http.StatusNoContent:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		if rt := reflect.TypeOf(op.resp); rt == reflect.TypeFor[User]() || rt == reflect.TypeFor[OIDCClient]() {
			ok["headers"] = map[string]any{"ETag": map[string]any{"description": "the version, quoted", "schema": map[string]any{"type": "string"}}}
		}
		resp[itoa(op.status)] = ok
		if op.also != nil {
			resp[itoa(op.also.status)] = map[string]any{"description": op.also.desc}
		}
		errs := slices.Clone(op.errors)
		if !op.public {
			errs = append(errs, 401, 403)
			if op.precondition {
				errs = append(errs, 428)
			}
		}
		slices.Sort(errs)
		for _, code := range slices.Compact(errs) {
			resp[itoa(code)] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		resp["default"] = map[string]any{"$ref": "#/components/responses/Error"}
		o["responses"] = resp
		if op.public {
			o["security"] = []any{}
		} else {
			perms := []string{}
			for _, p := range op.perms {
				perms = append(perms, string(p))
			}
			o["x-permissions"] = perms
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][strings.ToLower(op.method)] = o
	}
	comp.of(reflect.TypeFor[ErrorBody]())
	comp.of(reflect.TypeFor[Permission]())
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "CliniConnects Identity admin API",
			"version": Version,
			"description": "Employees, clinicians, roles, OIDC clients and the audit log. Every route but this document " +
				"needs a bearer access token issued by this provider with scope admin; the caller's roles and status " +
				"are read on every request. x-permissions names the permissions an operation needs (any one of them); " +
				"GET /admin/v1/me lists the caller's. Errors are {\"error\": {\"code\", \"message\", \"fields\"}} with " +
				"stable codes.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearerAuth": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearerAuth": map[string]any{
				"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
				"description": "an access token of this provider with scope admin"}},
			"responses": map[string]any{"Error": map[string]any{
				"description": "an error; see the code",
				"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/ErrorBody"}}}}},
			"schemas": map[string]any(comp),
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func itoa(n int) string { return strconv.Itoa(n) }

var timeType = reflect.TypeFor[time.Time]()

// enumOf lists the known values of the string types of this package.
func enumOf(t reflect.Type) []string {
	var vals []string
	switch t {
	case reflect.TypeFor[Role]():
		for _, r := range Roles {
			vals = append(vals, string(r))
		}
	case reflect.TypeFor[UserType]():
		vals = []string{string(UserTypeEmployee), string(UserTypeClinician)}
	case reflect.TypeFor[UserStatus]():
		vals = []string{string(StatusInvited), string(StatusActive), string(StatusDisabled)}
	case reflect.TypeFor[SignInMethod]():
		for _, m := range SignInMethods {
			vals = append(vals, string(m))
		}
	case reflect.TypeFor[MobileState]():
		for _, s := range MobileStates {
			vals = append(vals, string(s))
		}
	case reflect.TypeFor[MFAState]():
		for _, s := range MFAStates {
			vals = append(vals, string(s))
		}
	case reflect.TypeFor[Permission]():
		for _, p := range Permissions {
			vals = append(vals, string(p))
		}
	case reflect.TypeFor[ErrorCode]():
		for c := range ErrorCodes {
			vals = append(vals, string(c))
		}
		slices.Sort(vals)
	}
	return vals
}

// of returns the schema of t: a $ref for the named structs and string
// enums of this package (added to the components), inline otherwise.
func (c schemas) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		if vals := enumOf(t); vals != nil {
			if _, ok := c[t.Name()]; !ok {
				c[t.Name()] = map[string]any{"type": "string", "enum": vals}
			}
			return ref(t.Name())
		}
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": c.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": c.of(t.Elem())}
	case reflect.Interface:
		return map[string]any{"description": "any JSON value"}
	case reflect.Struct:
		if _, ok := c[t.Name()]; ok {
			return ref(t.Name())
		}
		c[t.Name()] = nil // placeholder against recursion
		props := map[string]any{}
		required := []string{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			props[name] = c.of(f.Type)
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		c[t.Name()] = s
		return ref(t.Name())
	}
	panic("openapi: no schema for " + t.String())
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
