package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/health"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/login"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Deps is what the server is built from.
type Deps struct {
	// Config is the loaded configuration: issuer, lifetimes, key rotation,
	// lock policy.
	Config config.Config
	// Store is the migrated store; the server does not close it.
	Store storage.Storage
	// Logger gets every log line; nil discards.
	Logger *slog.Logger
	// Now is the clock; tests inject one. Defaults to time.Now.
	Now func() time.Time
	// KEK is the key-encryption key. It encrypts the signing keys at rest
	// and op's CryptoKey is derived from it, so every replica must have the
	// same one. nil means keys.LoadOrCreateKEK: IDP_SECRET_KEY, else
	// IDP_SECRET_KEY_FILE, else <data dir>/secret.key.
	KEK []byte
	// Hasher hashes and verifies passwords and client secrets. The zero
	// value uses password.DefaultParams; tests pass cheap parameters.
	Hasher password.Hasher
	// KeyBits is the RSA size of new ID token signing keys; 0 means
	// keys.DefaultBits.
	KeyBits int
	// MaintenanceEvery is how often the background loop checks signing keys
	// and deletes expired rows; 0 means DefaultMaintenanceEvery.
	MaintenanceEvery time.Duration
	// Sender delivers the outbox's emails; nil means the one the
	// configuration names (notify.NewSender: SMTP, or .eml files).
	Sender notify.Sender
	// MailPoll is how often the delivery worker looks for due email when
	// nothing woke it; 0 means notify.DefaultPoll.
	MailPoll time.Duration
	// SMSSender delivers the outbox's SMS; nil means the one the
	// configuration names (notify.NewSMSSender: webhook, Twilio, files on
	// a loopback issuer, or none).
	SMSSender notify.SMSSender
	// Admission bounds the requests that work for unknown callers; the
	// zero value means DefaultAdmission().
	Admission Admission
}

// DefaultMaintenanceEvery is the period of the background loop.
const DefaultMaintenanceEvery = 5 * time.Minute

// SigningKeys builds the signing keys New uses — RS256 for ID tokens,
// ES256 for access tokens — for the CLI too (`idp keys rotate` calls
// Rotate on them). It loads the KEK as New does when d.KEK is nil.
func SigningKeys(d Deps) (*keys.Set, error) {
	if err := d.resolveKEK(); err != nil {
		return nil, err
	}
	m := func(alg string) *keys.Manager {
		return &keys.Manager{
			Store:     d.Store,
			Algorithm: alg,
			KEK:       d.KEK,
			Rotation:  d.Config.KeyRotation,
			Lifetime:  max(d.Config.AccessTokenTTL, d.Config.IDTokenTTL),
			Now:       d.Now,
			Bits:      d.KeyBits,
			Logger:    d.Logger,
		}
	}
	return &keys.Set{ID: m(keys.RS256), Access: m(keys.ES256)}, nil
}

func (d *Deps) resolveKEK() error {
	if d.KEK != nil {
		return nil
	}
	kek, err := keys.LoadOrCreateKEK(d.Config.SecretKey, d.Config.SecretKeyFile, d.Config.DataDir)
	if err != nil {
		return err
	}
	d.KEK = kek
	return nil
}

// New builds the provider's HTTP handler: the OIDC endpoints, the sign-in
// and account pages (forgot password, reset, invitation, /account) and the
// health endpoints on one ServeMux behind the security headers. It makes
// sure signing keys exist before it returns and keeps them rotating (and
// expired rows pruned), and the outbox's email delivered, until ctx ends.
func New(ctx context.Context, d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Store == nil {
		return nil, errors.New("server: Deps.Store is required")
	}
	cfg := d.Config
	if err := d.resolveKEK(); err != nil {
		return nil, err
	}
	km, err := SigningKeys(d)
	if err != nil {
		return nil, err
	}
	if err := km.Ensure(ctx); err != nil {
		return nil, err
	}
	met, err := startMetrics(ctx, d, km)
	if err != nil {
		return nil, err
	}
	sessions := &session.Manager{Store: d.Store, Secure: cfg.Secure(), TTL: cfg.SessionTTL, Now: d.Now, Logger: d.Logger}
	devices, err := signin.NewDevices(d.KEK, cfg.Secure())
	if err != nil {
		return nil, err
	}
	signins := &signin.Service{Store: d.Store, Hasher: d.Hasher, Now: d.Now, LockAfter: cfg.LockAfter, LockFor: cfg.LockFor, Devices: devices, Logger: d.Logger,
		Observe: signInObserver(met)}

	// The provider renders its error pages with the login pages, which
	// hand completed requests back to the provider: bind late.
	var pages *login.Handler
	prov, err := oidcprovider.New(oidcprovider.Config{
		Issuer:             cfg.Issuer,
		Store:              d.Store,
		Keys:               km,
		Hasher:             d.Hasher,
		KEK:                d.KEK,
		AccessTokenTTL:     cfg.AccessTokenTTL,
		IDTokenTTL:         cfg.IDTokenTTL,
		RefreshTokenTTL:    cfg.RefreshTokenTTL,
		RefreshReuseWindow: cfg.RefreshReuseWindow,
		Logger:             d.Logger,
		Now:                d.Now,
		Observer:           tokenObserver(met),
		RenderError: func(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
			pages.RenderError(w, r, status, title, msg)
		},
		RefuseRequest: func(w http.ResponseWriter, r *http.Request, why error) {
			pages.RefuseRequest(w, r, why)
		},
		SessionSubject: func(r *http.Request) string {
			s, _ := sessions.Current(r)
			return s.UserID
		},
		ConfirmLogout: func(w http.ResponseWriter, r *http.Request, fields url.Values) {
			pages.ConfirmLogout(w, r, fields)
		},
		EndSession: func(w http.ResponseWriter, r *http.Request) {
			if err := sessions.End(r.Context(), w, r); err != nil {
				d.Logger.ErrorContext(r.Context(), "ending browser session", "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	acct, mobile, err := accounts(ctx, d)
	if err != nil {
		return nil, err
	}
	acct.SignInOutcomes = signInObserver(met)
	signins.Hashes = acct // account is the one writer of users, rehashes included
	mfa, err := account.NewMFA(acct, d.KEK, signins, cfg.MFARequiredRoles)
	if err != nil {
		return nil, err
	}
	pages, err = login.New(login.Deps{
		Store:    d.Store,
		Signin:   signins,
		Sessions: sessions,
		Binder:   binding.Binder{Secure: cfg.Secure()},
		Logger:   d.Logger,
		Now:      d.Now,
		Callback: prov.CallbackURL,
		Fail:     prov.Fail,
		MFA:      mfa,
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	health.Register(mux, d.Store, d.Logger)
	pages.Register(mux)
	if err := pages.RegisterAccount(mux, acct); err != nil {
		return nil, err
	}
	if err := pages.RegisterPhone(mux, mobile); err != nil {
		return nil, err
	}
	// The admin API (/admin/v1/), and the desktop admin app's built-in
	// client that obtains its tokens.
	if _, err := adminapi.EnsureDesktopClient(ctx, d.Store, d.Hasher); err != nil {
		return nil, err
	}
	admin, err := adminapi.New(adminapi.Deps{
		Store: d.Store, Keys: km, Issuer: cfg.Issuer, Hasher: d.Hasher,
		Accounts: acct, Mobile: mobile, MFA: mfa, Logger: d.Logger, Now: d.Now,
	})
	if err != nil {
		return nil, err
	}
	mux.Handle(adminapi.PathPrefix, admin)
	mux.Handle("/", prov)

	go maintain(ctx, d, km)
	adm := d.Admission
	if adm == (Admission{}) {
		adm = DefaultAdmission()
	}
	return met.Instrument(clientAddr(cfg.TrustedProxies, SecurityHeaders(cfg.Secure(),
		limitBodies(pages.RenderError, admit(adm, pages.RenderUnavailable, outages(pages.RenderUnavailable, mux))))), endpointOf(mux, admin)), nil
}

// maintain keeps a next signing key published, retires superseded ones and
// deletes expired rows, until ctx ends. Every replica runs it; the work is
// idempotent.
func maintain(ctx context.Context, d Deps, km *keys.Set) {
	every := d.MaintenanceEvery
	if every <= 0 {
		every = DefaultMaintenanceEvery
	}
	if r := d.Config.KeyRotation / 8; r > 0 && r < every {
		every = r
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// During a database outage each says so once, not every period.
	var keysOutage, expiryOutage storage.OutageLog
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := km.Ensure(ctx); ctx.Err() == nil {
			keysOutage.Pass(ctx, d.Logger, "signing keys", err)
		}
		n, err := d.Store.DeleteExpired(ctx, d.Now())
		if ctx.Err() == nil {
			expiryOutage.Pass(ctx, d.Logger, "deleting expired rows", err)
		}
		if n > 0 {
			d.Logger.DebugContext(ctx, "expired rows deleted", "rows", n)
		}
	}
}
