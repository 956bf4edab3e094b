package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TokenSource returns the bearer access token for the next request (one
// with scope "admin" issued by the provider). It is called for every
// request, so it may refresh.
type TokenSource func(ctx context.Context) (string, error)

// StaticToken is a TokenSource that always returns token.
func StaticToken(token string) TokenSource {
	return func(context.Context) (string, error) { return token, nil }
}

// Client is a typed client of the admin API. Every method takes a context,
// returns *Error for an error answer of the server, and is safe for
// concurrent use.
type Client struct {
	base  string // issuer URL without trailing slash
	http  *http.Client
	token TokenSource
}

// NewClient returns a client of the provider at issuer (e.g.
// https://id.example.com); httpClient nil means http.DefaultClient, token
// nil sends no Authorization header.
func NewClient(issuer string, httpClient *http.Client, token TokenSource) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(issuer, "/"), http: httpClient, token: token}
}

// Me returns the caller's profile and effective permissions.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var out Me
	return out, c.do(ctx, http.MethodGet, "/me", nil, 0, nil, &out)
}

// OpenAPI returns the OpenAPI document the server serves.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var out []byte
	err := c.do(ctx, http.MethodGet, "/openapi.json", nil, 0, nil, &out)
	return out, err
}

// Employees.

func (c *Client) ListEmployees(ctx context.Context, o ListUsersOptions) (UserList, error) {
	return c.listUsers(ctx, "/employees", o)
}

func (c *Client) GetEmployee(ctx context.Context, id string) (User, error) {
	return c.getUser(ctx, "/employees/"+url.PathEscape(id))
}

// CreateEmployee creates the employee and sends the invitation.
func (c *Client) CreateEmployee(ctx context.Context, in NewEmployee) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/employees", nil, 0, in, &out)
}

// DryRunCreateEmployee is CreateEmployee's dry run (?dry_run=true): the
// server checks in exactly as a create — its members, the roles the
// caller may grant, a taken email or phone — and answers with the same
// *Error, or nil when the create would succeed. Nothing is created, sent
// or audited.
func (c *Client) DryRunCreateEmployee(ctx context.Context, in NewEmployee) error {
	return c.do(ctx, http.MethodPost, "/employees", dryRun(), 0, in, nil)
}

// UpdateEmployee changes profile fields of the employee at version (sent
// as If-Match; 0 relies on in.Version).
func (c *Client) UpdateEmployee(ctx context.Context, id string, version int64, in EmployeeUpdate) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPatch, "/employees/"+url.PathEscape(id), nil, version, in, &out)
}

func (c *Client) SetEmployeeRoles(ctx context.Context, id string, version int64, roles []Role) (User, error) {
	return c.setRoles(ctx, "/employees/"+url.PathEscape(id), version, roles)
}

func (c *Client) DisableEmployee(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/employees/"+url.PathEscape(id)+"/disable")
}

func (c *Client) EnableEmployee(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/employees/"+url.PathEscape(id)+"/enable")
}

// SendEmployeePasswordReset emails the employee a password reset link.
func (c *Client) SendEmployeePasswordReset(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/employees/"+url.PathEscape(id)+"/password-reset", nil, 0, nil, nil)
}

// ResendEmployeeInvitation emails an invited employee a new invitation.
func (c *Client) ResendEmployeeInvitation(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/employees/"+url.PathEscape(id)+"/invitation", nil, 0, nil, nil)
}

// Clinicians.

func (c *Client) ListClinicians(ctx context.Context, o ListUsersOptions) (UserList, error) {
	return c.listUsers(ctx, "/clinicians", o)
}

func (c *Client) GetClinician(ctx context.Context, id string) (User, error) {
	return c.getUser(ctx, "/clinicians/"+url.PathEscape(id))
}

func (c *Client) CreateClinician(ctx context.Context, in NewClinician) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/clinicians", nil, 0, in, &out)
}

// DryRunCreateClinician is CreateClinician's dry run, as
// DryRunCreateEmployee.
func (c *Client) DryRunCreateClinician(ctx context.Context, in NewClinician) error {
	return c.do(ctx, http.MethodPost, "/clinicians", dryRun(), 0, in, nil)
}

func (c *Client) UpdateClinician(ctx context.Context, id string, version int64, in ClinicianUpdate) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPatch, "/clinicians/"+url.PathEscape(id), nil, version, in, &out)
}

func (c *Client) SetClinicianRoles(ctx context.Context, id string, version int64, roles []Role) (User, error) {
	return c.setRoles(ctx, "/clinicians/"+url.PathEscape(id), version, roles)
}

func (c *Client) DisableClinician(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/clinicians/"+url.PathEscape(id)+"/disable")
}

func (c *Client) EnableClinician(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/clinicians/"+url.PathEscape(id)+"/enable")
}

func (c *Client) SendClinicianPasswordReset(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/clinicians/"+url.PathEscape(id)+"/password-reset", nil, 0, nil, nil)
}

func (c *Client) ResendClinicianInvitation(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/clinicians/"+url.PathEscape(id)+"/invitation", nil, 0, nil, nil)
}

// Clients.

func (c *Client) ListClients(ctx context.Context) (OIDCClientList, error) {
	var out OIDCClientList
	return out, c.do(ctx, http.MethodGet, "/clients", nil, 0, nil, &out)
}

func (c *Client) GetClient(ctx context.Context, id string) (OIDCClient, error) {
	var out OIDCClient
	return out, c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(id), nil, 0, nil, &out)
}

// CreateClient registers a client; the secret in the answer is shown once.
func (c *Client) CreateClient(ctx context.Context, in NewOIDCClient) (OIDCClientWithSecret, error) {
	var out OIDCClientWithSecret
	return out, c.do(ctx, http.MethodPost, "/clients", nil, 0, in, &out)
}

func (c *Client) UpdateClient(ctx context.Context, id string, version int64, in OIDCClientUpdate) (OIDCClient, error) {
	var out OIDCClient
	return out, c.do(ctx, http.MethodPatch, "/clients/"+url.PathEscape(id), nil, version, in, &out)
}

// RotateClientSecret replaces a confidential client's secret; the old one
// stops working at once.
func (c *Client) RotateClientSecret(ctx context.Context, id string) (OIDCClientWithSecret, error) {
	var out OIDCClientWithSecret
	return out, c.do(ctx, http.MethodPost, "/clients/"+url.PathEscape(id)+"/secret", nil, 0, nil, &out)
}

// DeleteClient removes a client and every token issued to it; version 0
// deletes whatever the current version is.
func (c *Client) DeleteClient(ctx context.Context, id string, version int64) error {
	return c.do(ctx, http.MethodDelete, "/clients/"+url.PathEscape(id), nil, version, nil, nil)
}

// Audit.

func (c *Client) ListAudit(ctx context.Context, o AuditOptions) (AuditList, error) {
	q := url.Values{}
	set(q, "actor", o.Actor)
	set(q, "target", o.Target)
	set(q, "action", o.Action)
	if !o.From.IsZero() {
		q.Set("from", o.From.Format(time.RFC3339Nano))
	}
	if !o.To.IsZero() {
		q.Set("to", o.To.Format(time.RFC3339Nano))
	}
	set(q, "cursor", o.Cursor)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var out AuditList
	return out, c.do(ctx, http.MethodGet, "/audit", q, 0, nil, &out)
}

func (c *Client) listUsers(ctx context.Context, path string, o ListUsersOptions) (UserList, error) {
	q := url.Values{}
	set(q, "q", o.Search)
	set(q, "status", string(o.Status))
	set(q, "role", string(o.Role))
	set(q, "cursor", o.Cursor)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var out UserList
	return out, c.do(ctx, http.MethodGet, path, q, 0, nil, &out)
}

func (c *Client) getUser(ctx context.Context, path string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodGet, path, nil, 0, nil, &out)
}

func (c *Client) setRoles(ctx context.Context, path string, version int64, roles []Role) (User, error) {
	if roles == nil {
		roles = []Role{}
	}
	var out User
	return out, c.do(ctx, http.MethodPut, path+"/roles", nil, version, RolesUpdate{Roles: roles}, &out)
}

func (c *Client) action(ctx context.Context, path string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, path, nil, 0, nil, &out)
}

// dryRun is the query of a create's dry run.
func dryRun() url.Values { return url.Values{"dry_run": {"true"}} }

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// ETag is the entity tag of a record at version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// do sends one request to BasePath+path and decodes a 2xx JSON answer into
// out (nil: discard). ifMatch > 0 sends If-Match. Error answers become
// *Error.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, ifMatch int64, in, out any) error {
	u := c.base + BasePath + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("adminapi: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("adminapi: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch > 0 {
		req.Header.Set("If-Match", ETag(ifMatch))
	}
	if c.token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return fmt.Errorf("adminapi: access token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("adminapi: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("adminapi: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp.StatusCode, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("adminapi: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// decodeError turns an error answer into *Error, also when its body is not
// the API's (a proxy's page, say).
func decodeError(status int, data []byte) error {
	var body ErrorBody
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil || body.Error.Code == "" {
		return &Error{Status: status, Code: codeForStatus(status), Message: http.StatusText(status)}
	}
	body.Error.Status = status
	return body.Error
}

func codeForStatus(status int) ErrorCode {
	switch status {
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return CodeUnavailable
	}
	return CodeInternal
}
