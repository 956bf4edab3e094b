package oidcprovider

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

var cheap = password.Hasher{Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}

type fixture struct {
	st     storage.Storage
	s      *Storage
	web    storage.Client // confidential, secret "web-secret"
	mobile storage.Client // public
	user   storage.User
}

func newFixture(t *testing.T, dsn string) *fixture {
	t.Helper()
	ctx := browserCtx()
	st := testenv.OpenStore(t, dsn, nil)
	kek := bytes.Repeat([]byte{4}, 32)
	p, err := New(Config{
		Issuer: "http://127.0.0.1:1", Store: st, Hasher: cheap, KEK: kek,
		Keys: &keys.Set{
			ID:     &keys.Manager{Store: st, KEK: kek, Rotation: time.Hour, Lifetime: time.Minute},
			Access: &keys.Manager{Store: st, Algorithm: keys.ES256, KEK: kek, Rotation: time.Hour, Lifetime: time.Minute},
		},
		AccessTokenTTL: time.Minute, IDTokenTTL: time.Minute, RefreshTokenTTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, s: p.storage}
	h, _ := cheap.Hash("web-secret")
	f.web, err = st.CreateClient(ctx, storage.Client{ID: "web", SecretHash: h, RedirectURIs: []string{"https://web.example/cb"},
		GrantTypes: []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	f.mobile, err = st.CreateClient(ctx, storage.Client{ID: "mobile", Public: true, RedirectURIs: []string{"app.example:/cb"},
		GrantTypes: []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}, Scopes: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	f.user, err = st.CreateUser(ctx, storage.User{Type: storage.UserTypeClinician, GivenName: "A", FamilyName: "B",
		Email: "a@example.com", Status: storage.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return testenv.SQLitePath(t) }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresDSN(t) }},
}

// oidcErrType is the OAuth error code of err ("" when it is no *oidc.Error).
func oidcErrType(err error) string {
	var e *oidc.Error
	if errors.As(err, &e) {
		return string(e.ErrorType)
	}
	return ""
}

func TestStorage(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.dsn(t))
			t.Run("create auth request", f.testCreateAuthRequest)
			t.Run("code redemption", f.testCodeRedemption)
			t.Run("client authentication", f.testClientAuth)
			t.Run("revocation", f.testRevoke)
		})
	}
}

func (f *fixture) testCreateAuthRequest(t *testing.T) {
	ctx := browserCtx()
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	base := func(c storage.Client) oidc.AuthRequest {
		return oidc.AuthRequest{ClientID: c.ID, RedirectURI: c.RedirectURIs[0], ResponseType: oidc.ResponseTypeCode,
			Scopes: oidc.SpaceDelimitedArray{"openid"}, CodeChallenge: challenge, CodeChallengeMethod: oidc.CodeChallengeMethodS256}
	}
	refused := map[string]func() oidc.AuthRequest{
		"plain PKCE":               func() oidc.AuthRequest { r := base(f.web); r.CodeChallengeMethod = "plain"; return r },
		"challenge without method": func() oidc.AuthRequest { r := base(f.web); r.CodeChallengeMethod = ""; return r },
		"method without challenge": func() oidc.AuthRequest {
			r := base(f.web)
			r.CodeChallenge = ""
			return r
		},
		"public client without PKCE": func() oidc.AuthRequest {
			r := base(f.mobile)
			r.CodeChallenge, r.CodeChallengeMethod = "", ""
			return r
		},
		"form_post": func() oidc.AuthRequest { r := base(f.web); r.ResponseMode = oidc.ResponseModeFormPost; return r },
	}
	// A request that reached op without the /authorize wrapper's browser
	// binding is never stored.
	unbound := base(f.web)
	if _, err := f.s.CreateAuthRequest(context.Background(), &unbound, ""); oidcErrType(err) != string(oidc.ServerError) {
		t.Errorf("request without a browser binding: %v, want server_error", err)
	}
	for name, mk := range refused {
		r := mk()
		if _, err := f.s.CreateAuthRequest(ctx, &r, ""); oidcErrType(err) != string(oidc.InvalidRequest) {
			t.Errorf("%s: %v, want invalid_request", name, err)
		}
	}
	// Scopes: standard ones and the client's own survive.
	for _, tc := range []struct {
		c    storage.Client
		want []string
	}{
		{f.web, []string{"openid", "roles", "offline_access"}},
		{f.mobile, []string{"openid", "admin", "roles", "offline_access"}},
	} {
		r := base(tc.c)
		r.Scopes = oidc.SpaceDelimitedArray{"openid", "admin", "address", "roles", "openid", "foo", "offline_access"}
		ar, err := f.s.CreateAuthRequest(ctx, &r, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := ar.GetScopes(); !slices.Equal(got, tc.want) {
			t.Errorf("%s scopes %v, want %v", tc.c.ID, got, tc.want)
		}
		if len(ar.GetID()) < 22 {
			t.Errorf("auth request id %q has under 128 bits", ar.GetID())
		}
		stored, err := f.st.GetAuthRequest(ctx, ar.GetID())
		if err != nil || stored.ExpiresAt.Sub(stored.CreatedAt) != DefaultAuthRequestTTL {
			t.Errorf("stored request %+v, %v", stored, err)
		}
	}
	// plain without a challenge and without a method is just "no PKCE" for
	// a confidential client.
	r := base(f.web)
	r.CodeChallenge, r.CodeChallengeMethod = "", ""
	if _, err := f.s.CreateAuthRequest(ctx, &r, ""); err != nil {
		t.Errorf("confidential client without PKCE: %v", err)
	}
}

func (f *fixture) completed(t *testing.T, scopes ...string) (string, string) {
	t.Helper()
	ctx := browserCtx()
	r := oidc.AuthRequest{ClientID: f.web.ID, RedirectURI: f.web.RedirectURIs[0], ResponseType: oidc.ResponseTypeCode,
		Scopes: scopes}
	ar, err := f.s.CreateAuthRequest(ctx, &r, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CompleteAuthRequest(ctx, ar.GetID(), storage.AuthResult{UserID: f.user.ID, AuthTime: time.Now(), AMR: []string{"pwd"}}); err != nil {
		t.Fatal(err)
	}
	code := "code-" + randomToken(32)
	if err := f.s.SaveAuthCode(ctx, ar.GetID(), code); err != nil {
		t.Fatal(err)
	}
	return ar.GetID(), code
}

func (f *fixture) testCodeRedemption(t *testing.T) {
	ctx := browserCtx()
	id, code := f.completed(t, "openid", "offline_access")
	stored, err := f.st.GetAuthRequest(ctx, id)
	if err != nil || stored.CodeHash == "" || stored.CodeHash == code || stored.CodeHash != hashToken(code) {
		t.Fatalf("code must be stored as its hash: %q", stored.CodeHash)
	}
	if _, err := f.s.AuthRequestByID(ctx, id); err == nil {
		t.Error("AuthRequestByID hands out a request whose code was issued")
	}
	// Looking the code up (op does it before authenticating the client and
	// checking PKCE) does not redeem it: only making tokens does.
	if _, err := f.s.AuthRequestByCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	ar, err := f.s.AuthRequestByCode(ctx, code)
	if err != nil {
		t.Fatalf("code looked up twice without an exchange: %v", err)
	}
	jti, rt, _, err := f.s.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteAuthRequest(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AuthRequestByCode(ctx, code); oidcErrType(err) != string(oidc.InvalidGrant) {
		t.Fatalf("second redemption: %v, want invalid_grant", err)
	}
	at, err := f.st.GetAccessToken(ctx, jti)
	if err != nil || at.RevokedAt.IsZero() {
		t.Errorf("access token of the first redemption not revoked: %+v %v", at, err)
	}
	if _, err := f.s.TokenRequestByRefreshToken(ctx, rt); oidcErrType(err) != string(oidc.InvalidGrant) {
		t.Errorf("refresh token of the first redemption: %v", err)
	}
	if _, err := f.s.AuthRequestByCode(ctx, "never-issued"); oidcErrType(err) != string(oidc.InvalidGrant) {
		t.Errorf("unknown code: %v", err)
	}
}

func (f *fixture) testClientAuth(t *testing.T) {
	ctx := browserCtx()
	if err := f.s.AuthorizeClientIDSecret(ctx, "web", "web-secret"); err != nil {
		t.Errorf("right secret: %v", err)
	}
	for name, c := range map[string][2]string{
		"wrong secret":   {"web", "nope"},
		"empty secret":   {"web", ""},
		"public client":  {"mobile", "anything"},
		"unknown client": {"ghost", "web-secret"},
	} {
		if err := f.s.AuthorizeClientIDSecret(ctx, c[0], c[1]); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func (f *fixture) testRevoke(t *testing.T) {
	ctx := browserCtx()
	_, code := f.completed(t, "openid", "offline_access")
	ar, err := f.s.AuthRequestByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	jti, rt, _, err := f.s.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	uid, tid, err := f.s.GetRefreshTokenInfo(ctx, "web", rt)
	if err != nil || uid != f.user.ID {
		t.Fatal(err)
	}
	if _, _, err := f.s.GetRefreshTokenInfo(ctx, "web", "garbage"); !errors.Is(err, errInvalidRefresh()) {
		t.Errorf("garbage refresh token: %v", err)
	}
	if e := f.s.RevokeToken(ctx, tid, uid, "mobile"); e == nil || e.ErrorType != oidc.UnauthorizedClient {
		t.Errorf("revoking another client's refresh token: %v", e)
	}
	if e := f.s.RevokeToken(ctx, jti, uid, "mobile"); e == nil {
		t.Error("revoking another client's access token succeeded")
	}
	if e := f.s.RevokeToken(ctx, "unknown", "", "web"); e != nil {
		t.Errorf("unknown token: %v, want success", e)
	}
	if e := f.s.RevokeToken(ctx, tid, uid, "web"); e != nil {
		t.Fatalf("revoking own refresh token: %v", e)
	}
	if at, _ := f.st.GetAccessToken(ctx, jti); at.RevokedAt.IsZero() {
		t.Error("revoking a refresh token must end the access tokens of its grant")
	}
}

func errInvalidRefresh() error { return op.ErrInvalidRefreshToken }

// browserCtx is the context /authorize's wrapper gives op: it carries the
// hash of the browser's binding cookie.
func browserCtx() context.Context {
	return binding.WithHash(context.Background(), binding.Hash("test-browser"))
}
