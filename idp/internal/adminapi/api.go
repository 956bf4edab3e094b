package adminapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// PathPrefix is where the server mounts the handler ("/admin/v1/").
const PathPrefix = api.BasePath + "/"

// KeySource gives the provider's public signing keys (*keys.Manager).
type KeySource interface {
	Public(ctx context.Context) ([]jose.JSONWebKey, error)
	// Invalidate drops cached keys, so a key published by another
	// replica since is found.
	Invalidate()
}

// Mailer sends the emails of the user lifecycle. Each call writes what it
// needs (one-time token, outbox message) through tx, the transaction the
// admin API's change and audit entry are written in.
type Mailer interface {
	// SendInvitation issues a new invitation to u, who is invited (has
	// not accepted one yet); older invitation links stop working.
	SendInvitation(ctx context.Context, tx storage.Storage, u storage.User) error
	// SendPasswordReset emails u a password reset link.
	SendPasswordReset(ctx context.Context, tx storage.Storage, u storage.User) error
	// Queued is called once the transaction that queued email has
	// committed (it wakes the delivery worker).
	Queued()
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
	// Mail sends invitations and password resets.
	Mail   Mailer
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

// Route is one entry of the route table: a ServeMux pattern and whether it
// needs a token.
type Route struct {
	Pattern string // "METHOD /admin/v1/…"
	Public  bool
	handle  handlerFunc
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

// table is every route of the admin API, in one place. The OpenAPI
// document lists the same set (a test fails when they differ).
func (h *Handler) table() []Route {
	const p = api.BasePath
	e, c := h.users(h.employees), h.users(h.clinicians)
	return []Route{
		{Pattern: "GET " + p + "/openapi.json", Public: true, handle: h.openAPI},
		{Pattern: "GET " + p + "/me", handle: h.me},

		{Pattern: "GET " + p + "/employees", handle: e.list},
		{Pattern: "POST " + p + "/employees", handle: e.create},
		{Pattern: "GET " + p + "/employees/{id}", handle: e.get},
		{Pattern: "PATCH " + p + "/employees/{id}", handle: e.update},
		{Pattern: "PUT " + p + "/employees/{id}/roles", handle: e.setRoles},
		{Pattern: "POST " + p + "/employees/{id}/disable", handle: e.disable},
		{Pattern: "POST " + p + "/employees/{id}/enable", handle: e.enable},
		{Pattern: "POST " + p + "/employees/{id}/password-reset", handle: e.passwordReset},
		{Pattern: "POST " + p + "/employees/{id}/invitation", handle: e.invitation},

		{Pattern: "GET " + p + "/clinicians", handle: c.list},
		{Pattern: "POST " + p + "/clinicians", handle: c.create},
		{Pattern: "GET " + p + "/clinicians/{id}", handle: c.get},
		{Pattern: "PATCH " + p + "/clinicians/{id}", handle: c.update},
		{Pattern: "PUT " + p + "/clinicians/{id}/roles", handle: c.setRoles},
		{Pattern: "POST " + p + "/clinicians/{id}/disable", handle: c.disable},
		{Pattern: "POST " + p + "/clinicians/{id}/enable", handle: c.enable},
		{Pattern: "POST " + p + "/clinicians/{id}/password-reset", handle: c.passwordReset},
		{Pattern: "POST " + p + "/clinicians/{id}/invitation", handle: c.invitation},

		{Pattern: "GET " + p + "/clients", handle: h.listClients},
		{Pattern: "POST " + p + "/clients", handle: h.createClient},
		{Pattern: "GET " + p + "/clients/{id}", handle: h.getClient},
		{Pattern: "PATCH " + p + "/clients/{id}", handle: h.updateClient},
		{Pattern: "POST " + p + "/clients/{id}/secret", handle: h.rotateClientSecret},
		{Pattern: "DELETE " + p + "/clients/{id}", handle: h.deleteClient},

		{Pattern: "GET " + p + "/audit", handle: h.listAudit},
	}
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

// errNoMailer: the server was built without a Mailer.
var errNoMailer = &apiError{code: api.CodeUnavailable, message: "email delivery is not configured on this server"}

type noMailer struct{}

func (noMailer) SendInvitation(context.Context, storage.Storage, storage.User) error {
	return errNoMailer
}
func (noMailer) SendPasswordReset(context.Context, storage.Storage, storage.User) error {
	return errNoMailer
}
func (noMailer) Queued() {}

func (h *Handler) mailer() Mailer {
	if h.d.Mail != nil {
		return h.d.Mail
	}
	return noMailer{}
}
