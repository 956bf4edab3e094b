package adminapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// PathPrefix is where the server mounts the handler ("/admin/v1/").
const PathPrefix = api.BasePath + "/"

// KeySource verifies access token signatures (*keys.Set).
type KeySource interface {
	// VerifyAccessToken returns the payload of jws when a published access
	// token key signed it; else keys.ErrUnknownKey, keys.ErrBadSignature
	// or a store error. It looks for a key published by another replica
	// since, but reads the store for unknown ids at most once per
	// interval, so that tokens with made-up key ids cannot turn every
	// request into a query.
	VerifyAccessToken(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error)
}

// Deps is what the handler is built from.
type Deps struct {
	Store storage.Storage
	// Keys verifies access tokens: they are JWTs signed by the provider.
	Keys KeySource
	// Issuer is the provider's issuer URL: the iss every token must carry.
	Issuer string
	// Hasher hashes the secrets of clients created or rotated here.
	Hasher password.Hasher
	// Accounts makes every change to users: the admin API authorizes and
	// validates, account writes the record with everything the change
	// entails (revoked grants, voided links, mail, the audit entry).
	Accounts *account.Service
	// Mobile runs the use cases of clinicians' mobile credentials; without
	// it their routes answer 503.
	Mobile *account.Mobile
	// MFA resets users' second factors; without it those routes answer 503.
	MFA    *account.MFA
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves /admin/v1/.
type Handler struct {
	d          Deps
	mux        *http.ServeMux
	routes     []Route
	employees  *section
	clinicians *section
}

// Route is one entry of the route table: a ServeMux pattern, whether it
// needs a token, and the permissions that let a caller use it at all.
type Route struct {
	Pattern string // "METHOD /admin/v1/…"
	Public  bool
	// Perms: the caller needs one of these before anything of the request
	// is looked at — a role that may not use the route gets 403 whatever
	// it sends. Empty: any role with access to the admin API (GET /me).
	Perms  []api.Permission
	handle handlerFunc
}

// handlerFunc is an authenticated handler: c is the caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call)

// New builds the handler.
func New(d Deps) (*Handler, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("adminapi: Deps.Store is required")
	case d.Keys == nil:
		return nil, errors.New("adminapi: Deps.Keys is required")
	case d.Issuer == "":
		return nil, errors.New("adminapi: Deps.Issuer is required")
	case d.Accounts == nil:
		return nil, errors.New("adminapi: Deps.Accounts is required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.Issuer = strings.TrimRight(d.Issuer, "/") // as the provider stamps it
	h := &Handler{d: d, mux: http.NewServeMux(), employees: employeesSection, clinicians: cliniciansSection}
	h.routes = h.table()
	for _, rt := range h.routes {
		h.mux.Handle(rt.Pattern, h.wrap(rt))
	}
	h.mux.HandleFunc(PathPrefix, h.notFound)
	return h, nil
}

// Pattern is the route r takes through the admin API, for the request
// metrics: its ServeMux pattern ("GET /admin/v1/employees/{id}"), or
// PathPrefix for a path no route matches. Never the raw path.
func (h *Handler) Pattern(r *http.Request) string {
	_, pattern := h.mux.Handler(r)
	return pattern
}

// table is every route of the admin API, in one place. The OpenAPI
// document lists the same set with the same permissions (a test fails when
// they differ).
func (h *Handler) table() []Route {
	const p = api.BasePath
	rt := func(pattern string, fn handlerFunc, perms ...api.Permission) Route {
		return Route{Pattern: pattern, handle: fn, Perms: perms}
	}
	routes := []Route{
		{Pattern: "GET " + p + "/openapi.json", Public: true, handle: h.openAPI},
		rt("GET "+p+"/me", h.me),
	}
	for _, s := range []*section{h.employees, h.clinicians} {
		u, base := h.users(s), p+"/"+s.path
		routes = append(routes,
			rt("GET "+base, u.list, s.read),
			rt("POST "+base, u.create, s.write),
			rt("GET "+base+"/{id}", u.get, s.read),
			rt("PATCH "+base+"/{id}", u.update, s.write),
			rt("PUT "+base+"/{id}/roles", u.setRoles, s.roles),
			rt("POST "+base+"/{id}/disable", u.disable, s.status),
			rt("POST "+base+"/{id}/enable", u.enable, s.status),
			rt("POST "+base+"/{id}/password-reset", u.passwordReset, s.notify),
			rt("POST "+base+"/{id}/invitation", u.invitation, s.notify),
			rt("POST "+base+"/{id}/mfa/reset", u.resetMFA, s.mfaPerm()),
		)
	}
	mobile := p + "/clinicians/{id}/mobile"
	routes = append(routes,
		rt("GET "+mobile, h.getMobile, api.PermCliniciansMobile),
		rt("POST "+mobile+"/activation", h.sendMobileActivation, api.PermCliniciansMobile),
		rt("POST "+mobile+"/reset", h.resetMobile, api.PermCliniciansMobile),
		rt("DELETE "+mobile+"/sessions", h.endMobileSessions, api.PermCliniciansMobile),
	)
	return append(routes,
		rt("GET "+p+"/clients", h.listClients, api.PermClientsRead),
		rt("POST "+p+"/clients", h.createClient, api.PermClientsWrite),
		rt("GET "+p+"/clients/{id}", h.getClient, api.PermClientsRead),
		rt("PATCH "+p+"/clients/{id}", h.updateClient, api.PermClientsWrite),
		rt("POST "+p+"/clients/{id}/secret", h.rotateClientSecret, api.PermClientsWrite),
		rt("DELETE "+p+"/clients/{id}", h.deleteClient, api.PermClientsWrite),

		rt("GET "+p+"/audit", h.listAudit, api.PermAuditAll, api.PermAuditRecords),
	)
}

// Routes returns the route table.
func (h *Handler) Routes() []Route { return append([]Route(nil), h.routes...) }

// ServeHTTP serves /admin/v1/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// wrap authenticates (unless the route is public) and runs the handler.
func (h *Handler) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{source: sourceAddr(r)}
		if !rt.Public {
			var err error
			if c.actor, c.token, err = h.authenticate(r); err != nil {
				h.fail(w, r, err)
				return
			}
			if err := mayUse(c.actor, rt.Perms); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		rt.handle(w, r, c)
	})
}

// notFound answers paths under /admin/v1/ that no route matches: 405 when
// the path exists with another method, 404 otherwise.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != PathPrefix && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		for _, m := range allow {
			w.Header().Add("Allow", m)
		}
		h.fail(w, r, apiErr(api.CodeMethodNotAllowed, "this resource does not support "+r.Method))
		return
	}
	h.fail(w, r, apiErr(api.CodeNotFound, "no such resource"))
}

// openAPI serves the OpenAPI document of the shared contract.
func (h *Handler) openAPI(w http.ResponseWriter, _ *http.Request, _ *call) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(api.OpenAPI())
}

// mayUse refuses a caller who holds none of perms (with none listed: no
// permission at all). It runs before a route reads its body or query.
func mayUse(actor storage.User, perms []api.Permission) error {
	if len(perms) == 0 {
		if !authz.IsStaff(actor.Roles) {
			return apiErr(api.CodeForbidden, "your account has no role with access to the admin API")
		}
		return nil
	}
	var denial error
	for _, p := range perms {
		d := authz.Can(actor, p, nil)
		if d == nil {
			return nil
		}
		denial = d
	}
	return denial
}
