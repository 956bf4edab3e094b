package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/cliniconnects/identity/idp/internal/clients"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// provider is the real server on a loopback listener, and a relying party
// (one confidential client) and a user to drive it with.
type provider struct {
	srv    *httptest.Server
	issuer string
	disc   discovery
	// api is the relying party's HTTP client (keep-alive connections, no
	// cookies); browsers share its transport but each has its own jar.
	api       *http.Client
	transport *http.Transport

	// rp is the relying party of the sign-in and token operations; admin
	// is the admin API's client (scope admin), used by the api.* ops.
	rp, admin       relyingParty
	email, password string
}

// relyingParty is a confidential client registered in the store, and the
// scopes its sign-ins request.
type relyingParty struct {
	id, secret, redirectURI, scope string
}

// discovery is the part of the provider's metadata the bench uses.
type discovery struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
	Introspection string `json:"introspection_endpoint"`
}

const scopes = "openid profile email offline_access"

// startProvider serves server.New on a loopback listener built exactly as
// `idp serve` builds it — the configuration defaults, the zero Hasher
// (password.DefaultParams) and KeyBits 0 (keys.DefaultBits) — registers
// two confidential clients with generated secrets (as the admin API and
// `idp client add --generate-secret` make them) and a user with a
// password, and reads the discovery document.
func startProvider(ctx context.Context, st storage.Storage, db *database, logger *slog.Logger) (*provider, error) {
	var h atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hh := h.Load(); hh != nil {
			(*hh).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	p := &provider{srv: srv, issuer: srv.URL}
	ok := false
	defer func() {
		if !ok {
			srv.Close()
		}
	}()

	env := map[string]string{
		"IDP_ISSUER":    p.issuer,
		"IDP_DATA_DIR":  db.dataDir,
		"IDP_DATABASE":  db.dsn,
		"IDP_LOG_LEVEL": "warn",
		// The bench user is a super admin (the admin API operations need
		// one) whose login is timed as one password sign-in: no second
		// step, which serve's default would require of that role.
		"IDP_MFA_REQUIRED_ROLES": "none",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	var hasher password.Hasher // as serve: the zero Hasher, password.DefaultParams
	handler, err := server.New(ctx, server.Deps{
		Config: cfg, Store: st, Logger: logger, KEK: kek, Hasher: hasher, KeyBits: 0, // as serve: keys.DefaultBits
	})
	if err != nil {
		return nil, fmt.Errorf("server.New: %w", err)
	}
	h.Store(&handler)

	// The relying party, the admin API's client and the user, with
	// production-cost hashes.
	p.rp = relyingParty{id: "idpbench-rp", secret: password.GenerateSecret(),
		redirectURI: "https://rp.idpbench.example/callback", scope: scopes}
	if err := registerClient(ctx, st, hasher, p.rp, true, storage.Client{
		Name:                   "idpbench relying party",
		PostLogoutRedirectURIs: []string{"https://rp.idpbench.example/bye"},
	}); err != nil {
		return nil, err
	}
	p.admin = relyingParty{id: "idpbench-admin", secret: password.GenerateSecret(),
		redirectURI: "https://admin.idpbench.example/callback", scope: adminScopes}
	if err := registerClient(ctx, st, hasher, p.admin, true, storage.Client{
		Name: "idpbench admin API client", Scopes: []string{adminapi.Scope},
	}); err != nil {
		return nil, err
	}
	p.email = "bench.signin@idpbench.example"
	p.password = "correct horse battery staple " + randomHex(4)
	pwHash, err := hasher.Hash(p.password)
	if err != nil {
		return nil, err
	}
	if _, err := st.CreateUser(ctx, storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Bench", FamilyName: "Signin", Email: p.email,
		EmailVerified: true, Status: storage.StatusActive, PasswordHash: pwHash,
		// super_admin: the admin API lets them view every user.
		Roles: []storage.Role{storage.RoleSuperAdmin},
	}); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}

	p.transport = http.DefaultTransport.(*http.Transport).Clone()
	p.transport.MaxIdleConnsPerHost = 16
	p.api = &http.Client{Transport: p.transport}
	if err := p.getJSON(ctx, p.issuer+"/.well-known/openid-configuration", &p.disc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if p.disc.Issuer != p.issuer || p.disc.Token == "" || p.disc.Authorization == "" ||
		p.disc.Userinfo == "" || p.disc.Introspection == "" {
		return nil, fmt.Errorf("discovery: incomplete metadata %+v", p.disc)
	}
	ok = true
	return p, nil
}

// registerClient registers rp as a confidential client, by default with
// the authorization_code and refresh_token grants; c gives the other
// fields. generated: rp.secret came from password.GenerateSecret and is
// stored as its SHA-256 digest; otherwise it is hashed with argon2id.
func registerClient(ctx context.Context, st storage.Storage, hasher password.Hasher, rp relyingParty, generated bool, c storage.Client) error {
	secretHash, err := clients.HashSecret(hasher, rp.secret, generated)
	if err != nil {
		return err
	}
	c.ID, c.SecretHash, c.RedirectURIs = rp.id, secretHash, []string{rp.redirectURI}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}
	}
	if _, err := st.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("create client %s: %w", rp.id, err)
	}
	return nil
}

func (p *provider) close() {
	p.transport.CloseIdleConnections()
	p.srv.Close()
}

// pkce is one authorization code flow's secrets.
type pkce struct {
	state, nonce, verifier string
}

func newPKCE() pkce {
	return pkce{state: randomHex(16), nonce: randomHex(16), verifier: base64.RawURLEncoding.EncodeToString(randBytes(32))}
}

func (f pkce) challenge() string {
	sum := sha256.Sum256([]byte(f.verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// code is an authorization code waiting to be exchanged.
type code struct {
	code string
	flow pkce
	rp   relyingParty
}

var authRequestIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// login is a full browser sign-in without an SSO session: GET /authorize
// (redirected to GET /login), POST /login with email and password, and the
// redirects up to the one that leaves the provider for the client with a
// code.
func (p *provider) login(ctx context.Context) (code, error) { return p.loginAs(ctx, p.rp) }

// loginAs is login for relying party rp, requesting its scopes.
func (p *provider) loginAs(ctx context.Context, rp relyingParty) (code, error) {
	f := newPKCE()
	jar, _ := cookiejar.New(nil)
	issuer := p.issuer + "/"
	browser := &http.Client{Transport: p.transport, Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), issuer) {
			return http.ErrUseLastResponse // leaving the provider: stop
		}
		return nil
	}}
	q := url.Values{
		"response_type": {"code"}, "client_id": {rp.id}, "redirect_uri": {rp.redirectURI},
		"scope": {rp.scope}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {f.challenge()}, "code_challenge_method": {"S256"},
	}
	form, err := do(ctx, browser, http.MethodGet, p.disc.Authorization+"?"+q.Encode(), nil)
	if err != nil {
		return code{}, fmt.Errorf("authorize: %w", err)
	}
	if form.status != http.StatusOK {
		return code{}, fmt.Errorf("authorize: status %d: %.300s", form.status, form.body)
	}
	m := authRequestIDRE.FindStringSubmatch(form.body)
	if m == nil {
		return code{}, fmt.Errorf("authorize: no sign-in form: %.300s", form.body)
	}
	post := url.Values{"authRequestID": {m[1]}, "email": {p.email}, "password": {p.password}}
	back, err := do(ctx, browser, http.MethodPost, p.issuer+"/login", post)
	if err != nil {
		return code{}, fmt.Errorf("login: %w", err)
	}
	if back.status != http.StatusFound && back.status != http.StatusSeeOther {
		return code{}, fmt.Errorf("login: want a redirect to the client, got %d: %.300s", back.status, back.body)
	}
	loc, err := url.Parse(back.header.Get("Location"))
	if err != nil {
		return code{}, fmt.Errorf("login: redirect: %w", err)
	}
	cq := loc.Query()
	if cq.Get("code") == "" || cq.Get("state") != f.state || !strings.HasPrefix(loc.String(), rp.redirectURI) {
		return code{}, fmt.Errorf("login: want the client's callback with a code and the state, got %s", loc)
	}
	return code{code: cq.Get("code"), flow: f, rp: rp}, nil
}

// tokens is a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"` // seconds the access token lives
}

// exchange redeems c at the token endpoint as the confidential client the
// code was issued to.
func (p *provider) exchange(ctx context.Context, c code) (tokens, error) {
	var t tokens
	err := p.clientPostAs(ctx, c.rp, p.disc.Token, url.Values{
		"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {c.rp.redirectURI},
		"code_verifier": {c.flow.verifier},
	}, &t)
	if err == nil && (t.AccessToken == "" || t.RefreshToken == "" || t.IDToken == "") {
		err = fmt.Errorf("token response lacks a token: %+v", t)
	}
	return t, err
}

// refresh uses refresh token rt once; the response carries its successor.
func (p *provider) refresh(ctx context.Context, rt string) (tokens, error) {
	return p.refreshAs(ctx, p.rp, rt)
}

// refreshAs is refresh as relying party rp, to whom rt was issued.
func (p *provider) refreshAs(ctx context.Context, rp relyingParty, rt string) (tokens, error) {
	var t tokens
	err := p.clientPostAs(ctx, rp, p.disc.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, &t)
	if err == nil && (t.AccessToken == "" || t.RefreshToken == "" || t.RefreshToken == rt) {
		err = errors.New("refresh response lacks a new access or refresh token")
	}
	return t, err
}

// userinfo calls the userinfo endpoint with access token at.
func (p *provider) userinfo(ctx context.Context, at string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.disc.Userinfo, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+at)
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := p.doJSON(req, &claims); err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	if claims.Sub == "" {
		return errors.New("userinfo: no sub")
	}
	return nil
}

// introspect asks whether at is active, as the confidential client.
func (p *provider) introspect(ctx context.Context, at string) error {
	var r struct {
		Active bool `json:"active"`
	}
	if err := p.clientPost(ctx, p.disc.Introspection, url.Values{"token": {at}}, &r); err != nil {
		return fmt.Errorf("introspect: %w", err)
	}
	if !r.Active {
		return errors.New("introspect: token not active")
	}
	return nil
}

// clientPost posts form with HTTP Basic client authentication (RFC 6749
// 2.3.1: id and secret form-encoded) and decodes the JSON answer into v.
func (p *provider) clientPost(ctx context.Context, endpoint string, form url.Values, v any) error {
	return p.clientPostAs(ctx, p.rp, endpoint, form, v)
}

// clientPostAs is clientPost authenticated as rp.
func (p *provider) clientPostAs(ctx context.Context, rp relyingParty, endpoint string, form url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.id), url.QueryEscape(rp.secret))
	return p.doJSON(req, v)
}

func (p *provider) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return p.doJSON(req, v)
}

// doJSON sends req and decodes a 200 answer into v.
func (p *provider) doJSON(req *http.Request, v any) error {
	resp, err := p.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// response is an HTTP answer with its body read.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a GET, or a POST of form when form is not nil.
func do(ctx context.Context, c *http.Client, method, u string, form url.Values) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}
