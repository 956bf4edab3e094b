package login

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Deps is what the pages are built from.
type Deps struct {
	Store    storage.Storage
	Signin   *signin.Service
	Sessions *session.Manager
	// Binder reads the browser binding cookie that /authorize set: only the
	// browser that started a request may continue it here.
	Binder binding.Binder
	// Logger gets every detail the pages do not show; slog.Default() when
	// nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Callback returns the URL that finishes authorization request
	// authRequestID once it is complete: op.AuthCallbackURL(provider).
	Callback func(ctx context.Context, authRequestID string) string
	// Fail sends the browser back to the client with an OAuth error (an
	// *oidc.Error such as oidc.ErrLoginRequired()): op.AuthRequestError.
	Fail func(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, err error)
	// MFA runs the second-factor use cases (TOTP and recovery codes);
	// without it the two-step sign-in pages are not mounted.
	MFA *account.MFA
}

// Handler serves the sign-in pages.
type Handler struct {
	d     Deps
	log   *slog.Logger
	pages pages
	// acct runs the account use cases once RegisterAccount has mounted the
	// account pages; nil before. With it, /login without an authorization
	// request signs in to the account page.
	acct *account.Service
	// mobile runs the phone sign-in use cases once RegisterPhone has
	// mounted the phone pages; nil before.
	mobile *account.Mobile
}

// New checks d and parses every template; a broken template is an error
// here, at start-up, never on a request.
func New(d Deps) (*Handler, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("login: Deps.Store is required")
	case d.Signin == nil:
		return nil, errors.New("login: Deps.Signin is required")
	case d.Sessions == nil:
		return nil, errors.New("login: Deps.Sessions is required")
	case d.Callback == nil:
		return nil, errors.New("login: Deps.Callback is required")
	case d.Fail == nil:
		return nil, errors.New("login: Deps.Fail is required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	p, err := parsePages(templateFS)
	if err != nil {
		return nil, err
	}
	ap, err := parseAccountPages(templateFS)
	if err != nil {
		return nil, err
	}
	maps.Copy(p, ap)
	return &Handler{d: d, log: d.Logger, pages: p}, nil
}

// Register mounts the pages on mux. The sign-in routes are guarded by
// http.CrossOriginProtection: a POST from another site is refused with 403
// before it reaches the handler.
func (h *Handler) Register(mux *http.ServeMux) {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(h.forbidden))
	mux.Handle("GET /login", csrf.Handler(http.HandlerFunc(h.showLogin)))
	mux.Handle("POST /login", csrf.Handler(http.HandlerFunc(h.submitLogin)))
	mux.Handle("POST /login/continue", csrf.Handler(http.HandlerFunc(h.submitContinue)))
	mux.Handle("POST /login/mfa", csrf.Handler(http.HandlerFunc(h.submitMFA)))
	mux.Handle("POST /login/mfa/setup", csrf.Handler(http.HandlerFunc(h.submitMFASetup)))
	mux.Handle("GET /login/mfa/qr.png", csrf.Handler(http.HandlerFunc(h.mfaSignInQRCode)))
	mux.HandleFunc("GET /logged-out", h.loggedOut)
	mux.Handle("GET /static/", staticHandler())
}
