package oidcprovider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Paths the provider serves (op's defaults, named here for the wrappers).
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/authorize"
	PathCallback   = "/authorize/callback"
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathUserinfo   = "/userinfo"
	PathRevoke     = "/revoke"
	PathEndSession = "/end_session"
	PathKeys       = "/keys"
	// PathLoggedOut is the signed-out page (served by the login package).
	PathLoggedOut = "/logged-out"
	// PathLogin is the sign-in page every client's LoginURL points to.
	PathLogin = "/login"
)

// CryptoKeyPurpose derives op's CryptoKey (it encrypts authorization codes)
// from the KEK, so every replica and every restart uses the same key.
const CryptoKeyPurpose = "op-crypto-key"

// Config is what the provider is built from.
type Config struct {
	// Issuer is the public base URL; https, or http on a loopback host.
	Issuer string
	Store  storage.Storage
	Keys   *keys.Set
	// Hasher verifies client secrets (password.Hasher.VerifySecret).
	Hasher password.Hasher
	// KEK is the key-encryption key; op's CryptoKey is derived from it.
	KEK []byte

	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	// RefreshReuseWindow is how long after its rotation a refresh token may
	// be presented again, while its successor is unused, to get a new
	// successor instead of revoking its family (a client's retry after a
	// lost answer). 0 turns retries off.
	RefreshReuseWindow time.Duration
	// AuthRequestTTL defaults to DefaultAuthRequestTTL.
	AuthRequestTTL time.Duration

	// ClientAuthLimit failed client authentications from one source
	// address within ClientAuthLockFor lock it out of client
	// authentication for ClientAuthLockFor. Zero values take
	// DefaultClientAuthLimit and DefaultClientAuthLockFor.
	ClientAuthLimit   int
	ClientAuthLockFor time.Duration

	Logger *slog.Logger
	// Now is the clock for what we store; nil means time.Now. (op stamps
	// iat/exp with the real clock.)
	Now func() time.Time

	// RenderError shows an HTML error page (the login package's); nil gives
	// a plain-text page.
	RenderError func(w http.ResponseWriter, r *http.Request, status int, title, message string)
	// EndSession ends the browser (SSO) session of r and clears its cookie;
	// end_session calls it. nil does nothing.
	EndSession func(w http.ResponseWriter, r *http.Request)
	// SessionSubject returns the user id of r's browser session, "" when
	// it has none; end_session asks before ending another user's session.
	SessionSubject func(r *http.Request) string
	// ConfirmLogout shows the "sign out?" page whose form POSTs fields and
	// confirm=1 back to end_session. nil gives a plain-text page.
	ConfirmLogout func(w http.ResponseWriter, r *http.Request, fields url.Values)
	// RefuseRequest shows why a pending authorization request cannot go on
	// in this browser (the login package's page): why is
	// binding.ErrOtherBrowser or storage.ErrNotFound (gone, expired or
	// already used). nil gives a plain-text page.
	RefuseRequest func(w http.ResponseWriter, r *http.Request, why error)
	// Observer is told the tokens issued and the families revoked (the
	// metrics); the zero value tells nobody.
	Observer Observer
}

// Provider is the OpenID provider: op's handler behind our wrappers.
type Provider struct {
	op     *op.Provider
	binder binding.Binder
	// logoutCSRF checks the confirmation POST of end_session.
	logoutCSRF *http.CrossOriginProtection
	storage    *Storage
	cfg        Config
	cors       *cors.Cors
	handler    http.Handler
	// discoveryJSON is the discovery document, encoded once (discovery).
	discoveryJSON []byte
	// clientAuth throttles failed client authentication per source.
	clientAuth *clientThrottle
}

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Keys.ID == nil || cfg.Keys.Access == nil {
		return nil, errors.New("oidcprovider: Store and Keys are required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("oidcprovider: Issuer must be an absolute http(s) URL")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthRequestTTL <= 0 {
		cfg.AuthRequestTTL = DefaultAuthRequestTTL
	}
	if cfg.ClientAuthLimit <= 0 {
		cfg.ClientAuthLimit = DefaultClientAuthLimit
	}
	if cfg.ClientAuthLockFor <= 0 {
		cfg.ClientAuthLockFor = DefaultClientAuthLockFor
	}
	if cfg.AccessTokenTTL <= 0 || cfg.IDTokenTTL <= 0 || cfg.RefreshTokenTTL <= 0 {
		return nil, errors.New("oidcprovider: token lifetimes must be positive")
	}
	cryptoKey, err := keys.Derive(cfg.KEK, CryptoKeyPurpose)
	if err != nil {
		return nil, err
	}
	st := &Storage{
		store: cfg.Store, keys: cfg.Keys, hasher: cfg.Hasher, logger: cfg.Logger, now: cfg.Now,
		issuer: cfg.Issuer, authRequestTTL: cfg.AuthRequestTTL,
		refreshReuseWindow: cfg.RefreshReuseWindow,
		observe:            cfg.Observer,
		accessTokenTTL:     cfg.AccessTokenTTL, idTokenTTL: cfg.IDTokenTTL, refreshTokenTTL: cfg.RefreshTokenTTL,
	}
	opCfg := &op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: PathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		RequestObjectSupported:   false,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedClaims:          SupportedClaims,
		SupportedScopes:          SupportedScopes,
	}
	// Browsers may call the token, userinfo, keys and discovery endpoints
	// from any origin, but never with cookies: bearer tokens and client
	// credentials travel explicitly.
	corsOpts := cors.Options{
		AllowedOrigins:   []string{"*"},
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Authorization", "Content-Type"},
		AllowCredentials: false,
		MaxAge:           600,
	}
	opts := []op.Option{
		op.WithCORSOptions(&corsOpts),
		// Access tokens: ES256 (RS256 only from before the upgrade that
		// gave them their own key; keys.Set.VerifyAccessToken decides).
		op.WithAccessTokenKeySet(accessKeySet{cfg.Keys}),
		op.WithAccessTokenVerifierOpts(op.WithSupportedAccessTokenSigningAlgorithms(keys.ES256, keys.RS256)),
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(keys.RS256)),
	}
	if u.Scheme == "http" {
		if !config.IsLoopback(u.Hostname()) {
			return nil, errors.New("oidcprovider: an http issuer is allowed only on a loopback host")
		}
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewProvider(opCfg, st, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	p := &Provider{op: o, storage: st, cfg: cfg, cors: cors.New(corsOpts), binder: binding.Binder{Secure: u.Scheme == "https"},
		logoutCSRF: http.NewCrossOriginProtection(), clientAuth: &clientThrottle{
			store: cfg.Store, limit: cfg.ClientAuthLimit, lockFor: cfg.ClientAuthLockFor, now: cfg.Now, logger: cfg.Logger,
		}}
	if p.discoveryJSON, err = p.encodeDiscovery(); err != nil {
		return nil, err
	}
	p.handler = p.routes()
	return p, nil
}

// SupportedScopes is what discovery lists in scopes_supported.
var SupportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess, ScopeRoles, ScopeAdmin}

// ServeHTTP serves every OIDC endpoint.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// OP is the underlying op.Provider (for op helpers that need it).
func (p *Provider) OP() *op.Provider { return p.op }

// CallbackURL is where the login page sends the browser once it has
// completed auth request id (login.Deps.Callback).
func (p *Provider) CallbackURL(_ context.Context, id string) string {
	return p.cfg.Issuer + PathCallback + "?id=" + url.QueryEscape(id)
}

// Fail answers an auth request with an error (login.Deps.Fail): a
// redirect to the client's registered redirect URI carrying error and
// state. err should be an *oidc.Error (oidc.ErrLoginRequired(),
// oidc.ErrAccessDenied(), …); anything else becomes server_error.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, ar storage.AuthRequest, err error) {
	var oe *oidc.Error
	if !errors.As(err, &oe) {
		p.cfg.Logger.ErrorContext(r.Context(), "auth request failed", "err", err)
		err = oidc.ErrServerError()
	}
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.cfg.Issuer))
	op.AuthRequestError(p.withIss(w), r, AdaptAuthRequest(ar), err, p.op)
}

// Interceptor puts the issuer into the request context, for handlers
// outside op that call op helpers.
func (p *Provider) Interceptor(next http.Handler) http.Handler {
	return op.NewIssuerInterceptor(p.op.IssuerFromRequest).Handler(next)
}

func (p *Provider) logger() *slog.Logger { return p.cfg.Logger }
