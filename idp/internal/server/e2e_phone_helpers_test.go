package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// smsGateway is a real HTTP server in the test process standing in for
// the operator's SMS gateway: either the JSON webhook (IDP_SMS_URL=http://
// 127.0.0.1:…, bearer token) or a Twilio-compatible API (twilio://SID:
// TOKEN@+FROM with IDP_TWILIO_BASE_URL). It checks the credentials and the
// request's shape as a real gateway would, and keeps what it accepted.
type smsGateway struct {
	t    *testing.T
	kind string // "webhook" or "twilio"
	srv  *httptest.Server

	mu       sync.Mutex
	received []sentSMS
}

type sentSMS struct{ To, Body string }

const (
	smsToken     = "sms-gateway-token-" + "3f9a1c"
	twilioSID    = "AC0123456789abcdef0123456789abcdef"
	twilioSecret = "twilio-auth-token-77e1"
	twilioFrom   = "+15005550006"
)

func newSMSGateway(t *testing.T, kind string) *smsGateway {
	t.Helper()
	g := &smsGateway{t: t, kind: kind}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms", func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Body string }
		if r.Header.Get("Authorization") != "Bearer "+smsToken || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.To == "" || m.Body == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		g.keep(m.To, m.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		sid, secret, ok := r.BasicAuth()
		if !ok || sid != twilioSID || secret != twilioSecret || r.PathValue("sid") != twilioSID {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate"}`))
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("From") != twilioFrom || r.PostForm.Get("To") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		g.keep(r.PostForm.Get("To"), r.PostForm.Get("Body"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid":"SM` + randHex(32) + `","status":"queued"}`))
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// configure points the provider's configuration at g, the way an
// operator does: IDP_SMS_URL (and IDP_SMS_TOKEN or IDP_TWILIO_BASE_URL)
// read and checked by config.Load.
func (g *smsGateway) configure(c *config.Config) {
	env := map[string]string{"IDP_ISSUER": c.Issuer, "IDP_DATA_DIR": g.t.TempDir()}
	switch g.kind {
	case "webhook":
		env["IDP_SMS_URL"], env["IDP_SMS_TOKEN"] = g.srv.URL+"/sms", smsToken
	case "twilio":
		env["IDP_SMS_URL"] = "twilio://" + twilioSID + ":" + twilioSecret + "@" + twilioFrom
		env["IDP_TWILIO_BASE_URL"] = g.srv.URL
	default:
		g.t.Fatalf("unknown gateway %q", g.kind)
	}
	loaded, err := config.Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		g.t.Fatalf("SMS configuration: %v", err)
	}
	c.SMSURL, c.SMSToken, c.TwilioBaseURL = loaded.SMSURL, loaded.SMSToken, loaded.TwilioBaseURL
}

func (g *smsGateway) keep(to, body string) {
	g.mu.Lock()
	g.received = append(g.received, sentSMS{to, body})
	g.mu.Unlock()
}

// to lists what went to number, oldest first.
func (g *smsGateway) to(number string) []sentSMS {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []sentSMS
	for _, m := range g.received {
		if m.To == number {
			out = append(out, m)
		}
	}
	return out
}

var smsCodeRE = regexp.MustCompile(`(?m)^@[^ ]+ #(\d{6})$`)

// code waits up to 15 s for the n-th SMS (1-based) to number and returns
// the code in its last, origin-bound line ("@host #123456"), checking that
// the host is the issuer's.
func (g *smsGateway) code(number string, n int, issuer string) string {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if got := g.to(number); len(got) >= n {
			body := got[n-1].Body
			m := smsCodeRE.FindStringSubmatch(body)
			if m == nil {
				g.t.Fatalf("no origin-bound code in SMS %q", body)
			}
			if host := mustParse(g.t, issuer).Host; !strings.Contains(body, "@"+host+" #") {
				g.t.Fatalf("SMS not bound to the issuer's host %s: %q", host, body)
			}
			return m[1]
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("no SMS %d to %s (the gateway has %d in all)", n, number, len(g.all()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *smsGateway) all() []sentSMS {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sentSMS(nil), g.received...)
}

// phoneEnv is a provider with email (SMTP in the process) and SMS (a
// gateway in the process), a super admin on the admin API, and a phone
// sign-in client registered through it.
type phoneEnv struct {
	*mailEnv
	sms   *smsGateway
	admin *api.Client
	app   testClient // the mobile app: public, sign-in method phone
}

// mobileUA is the User-Agent of the browsers of phoneEnv, as a phone's
// in-app browser sends it.
const mobileUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

func newPhoneEnv(t *testing.T, b backend, gateway string) *phoneEnv {
	t.Helper()
	sms := newSMSGateway(t, gateway)
	me := newMailEnvWith(t, b, testLogger(), sms.configure)
	pe := &phoneEnv{mailEnv: me, sms: sms}
	super := me.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	pe.admin = me.adminClient(t, super.Email, userPassword)
	cl, err := pe.admin.CreateClient(context.Background(), api.NewOIDCClient{
		ID: "mobile-" + randHex(8), Name: "CliniConnects mobile", Public: true, SignInMethod: api.SignInPhone,
		RedirectURIs: []string{"com.cliniconnects.mobile:/callback"},
	})
	if err != nil {
		t.Fatalf("registering the phone client: %v", err)
	}
	c, err := me.store.GetClient(context.Background(), cl.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	pe.app = testClient{Client: c}
	return pe
}

// phoneBrowser is a browser that says it is a phone.
func (e *phoneEnv) phoneBrowser() *browser {
	b := e.browser()
	b.c.Transport = uaTransport(mobileUA)
	return b
}

type uaTransport string

func (ua uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(ua))
	return http.DefaultTransport.RoundTrip(r)
}

// appScopes are what the mobile app asks for.
var appScopes = []string{"openid", "profile", "email", "phone", "roles", "offline_access"}

// appFlow is a new code + PKCE flow of the mobile app.
func (e *phoneEnv) appFlow() *flow { return newFlow(e.oauth2Config(e.app, appScopes...)) }

// clinician creates a clinician with number through the admin API, and
// accepts the invitation by email, as a new clinician does.
func (e *phoneEnv) clinician(t *testing.T, number string) storage.User {
	t.Helper()
	ctx := context.Background()
	email := "clin." + randHex(8) + "@example.com"
	u, err := e.admin.CreateClinician(ctx, api.NewClinician{
		GivenName: "Ama", FamilyName: "Mensah", Email: email, Phone: number, Discipline: "RN",
	})
	if err != nil {
		t.Fatalf("creating clinician: %v", err)
	}
	link := e.mail.wait(email, "invited", 1).link(t, e.issuer, "/invite")
	p := e.browser().form(t, "/invite", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "accepting the invitation", p, http.StatusOK, "Your account is ready")
	got, err := e.store.GetUser(ctx, u.ID)
	if err != nil || got.Status != storage.StatusActive || got.Phone != number {
		t.Fatalf("clinician after the invitation: %+v, %v", got, err)
	}
	return got
}

// requestIDOf is the authorization request id of a page's form.
func requestIDOf(t *testing.T, p page) string {
	t.Helper()
	m := authRequestIDRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no authorization request on the page (status %d): %.600s", p.StatusCode, p.body)
	}
	return m[1]
}

// activate walks the activation pages in b for the request id shows:
// number, the code from the SMS (the n-th to number), the PIN. It returns
// the last page (the redirect to the client on success).
func (e *phoneEnv) activate(t *testing.T, b *browser, id, number string, n int, pin string) page {
	t.Helper()
	p := b.get(t, e.issuer+"/login/phone/activate?authRequestID="+url.QueryEscape(id))
	mustContain(t, "activation page", p, http.StatusOK, `type="tel"`, `autocomplete="tel"`)
	p = b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {number}})
	mustContain(t, "code page", p, http.StatusOK, `autocomplete="one-time-code"`, `inputmode="numeric"`, htmlText(number))
	code := e.sms.code(number, n, e.issuer)
	p = b.form(t, "/login/phone/code", url.Values{"authRequestID": {id}, "phone": {number}, "code": {code}})
	mustContain(t, "PIN page", p, http.StatusOK, "Choose your PIN", `autocomplete="new-password"`, `inputmode="numeric"`)
	return b.form(t, "/login/phone/pin", url.Values{"authRequestID": {id}, "pin": {pin}, "confirm": {pin}})
}

// pinSignIn posts number and PIN for request id in b.
func (e *phoneEnv) pinSignIn(b *browser, t *testing.T, id, number, pin string) page {
	t.Helper()
	return b.form(t, "/login/phone", url.Values{"authRequestID": {id}, "phone": {number}, "pin": {pin}})
}

// htmlText is s as html/template writes it into a page ("+" escaped).
func htmlText(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

// follow continues p's redirect within the provider in b, up to where
// the provider sends the browser back to the client.
func (b *browser) follow(t *testing.T, p page) page {
	t.Helper()
	loc := p.Header.Get("Location")
	if strings.HasPrefix(loc, "/") {
		loc = b.issuer + loc
	}
	if !strings.HasPrefix(loc, b.issuer+"/") {
		t.Fatalf("want a redirect within the provider, got %d %q: %.300s", p.StatusCode, loc, p.body)
	}
	return b.get(t, loc)
}

// appTokens exchanges the code p sends the browser back with, and checks
// the ID token with go-oidc: signature, issuer, audience, nonce.
func (e *phoneEnv) appTokens(t *testing.T, f *flow, p page) (*oauth2.Token, *gooidc.IDToken, map[string]any) {
	t.Helper()
	tok, err := f.exchange(context.Background(), f.code(t, clientRedirect(t, p)))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.provider(t).Verifier(&gooidc.Config{ClientID: e.app.ID}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, f.nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, idt, claims
}

// amr is the ID token's amr claim.
func amr(claims map[string]any) string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// auditActions lists the actions of the audit entries about userID.
func (e *phoneEnv) auditActions(t *testing.T, userID string) []storage.AuditEntry {
	t.Helper()
	es, _, err := e.store.ListAudit(context.Background(), storage.AuditQuery{TargetID: userID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return es
}
