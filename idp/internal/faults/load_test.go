package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// nClients is how many clients loop at once, each with its own refresh
// token family.
const nClients = 8

// retryPause is a client's back-off before it sends the same request
// again after a 502, a 503 or a transport error.
const retryPause = 50 * time.Millisecond

// requestTimeout bounds one request: above SQLite's 10 s busy timeout, so
// a request waiting for the write lock is answered, not cut off.
const requestTimeout = 20 * time.Second

// answer is one response a client got (or the transport error instead).
type answer struct {
	client     int
	op         string    // "refresh" or "userinfo"
	sent, at   time.Time // request sent, answer received
	status     int       // HTTP status; 0: no answer (transport error)
	code       string    // OAuth error code of the body, if any
	retryAfter bool      // the answer had a Retry-After header
	ok         bool      // a success that passed the client's checks
	err        string    // the transport error, or why a 200 did not pass
}

func (a answer) String() string {
	s := fmt.Sprintf("client %d %s: ", a.client, a.op)
	switch {
	case a.status == 0:
		s += "no answer"
	default:
		s += fmt.Sprint(a.status)
	}
	if a.code != "" {
		s += " " + a.code
	}
	if a.status == http.StatusServiceUnavailable && !a.retryAfter {
		s += " (no Retry-After)"
	}
	if a.err != "" {
		s += ": " + a.err
	}
	return s
}

// retryable: an answer a client meets by sending the same request again
// after a pause — a 502 from the proxy, a 503, or no answer at all.
func (a answer) retryable() bool {
	return !a.ok && (a.status == 0 || a.status == http.StatusBadGateway || a.status == http.StatusServiceUnavailable)
}

// rp is what every client of one test shares: the provider as discovered
// through issuer, and the HTTP transport.
type rp struct {
	issuer   string
	conf     *oauth2.Config
	verifier *gooidc.IDTokenVerifier
	userinfo string
	api      *http.Client // no cookies
	fix      fixture
}

// newRP discovers the provider at issuer.
func newRP(t *testing.T, issuer string, f fixture) *rp {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2 * nClients
	api := &http.Client{Transport: transport, Timeout: requestTimeout}
	t.Cleanup(transport.CloseIdleConnections)
	ctx := gooidc.ClientContext(t.Context(), api)
	p, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := p.Endpoint()
	// In the header, and only there: auto-detection would send a second
	// request whenever the first failed, 503 or not.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	return &rp{
		issuer: issuer, api: api, fix: f, userinfo: p.UserInfoEndpoint(),
		conf: &oauth2.Config{ClientID: f.clientID, ClientSecret: f.secret, RedirectURL: f.redirectURI, Endpoint: ep,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}},
		verifier: p.Verifier(&gooidc.Config{ClientID: f.clientID}),
	}
}

// ctx carries the relying party's HTTP client to x/oauth2 and go-oidc.
func (r *rp) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, r.api)
}

var authRequestIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// browser is a cookie jar that has signed in at the provider.
type browser struct {
	client *http.Client
}

// newBrowser is a browser without cookies that follows redirects within
// the provider and stops at the one that leaves it.
func (r *rp) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{client: &http.Client{Transport: r.api.Transport, Jar: jar, Timeout: requestTimeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), r.issuer+"/") {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
}

// authorize sends b to the authorization endpoint (code flow, PKCE S256,
// a nonce; extra parameters such as prompt=none) and, when the provider
// shows its sign-in form and login is true, signs in with the fixture's
// password. It
// returns the tokens the code is exchanged for, the ID token verified
// (nonce included).
func (r *rp) authorize(ctx context.Context, b *browser, login bool, extra ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	verifier, state, nonce := oauth2.GenerateVerifier(), randomHex(16), randomHex(16)
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)}, extra...)
	resp, body, err := get(ctx, b.client, r.conf.AuthCodeURL(state, opts...))
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	if m := authRequestIDRE.FindStringSubmatch(body); m != nil && resp.StatusCode == http.StatusOK {
		if !login {
			return nil, errors.New("the provider asks for a sign-in")
		}
		form := url.Values{"authRequestID": {m[1]}, "email": {r.fix.email}, "password": {r.fix.password}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.issuer+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, body, err = send(b.client, req); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("want a redirect to the client, got %d: %.300s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), r.fix.redirectURI) || q.Get("state") != state || q.Get("code") == "" {
		return nil, fmt.Errorf("want the client's callback with a code and the state, got %s", loc)
	}
	tok, err := r.conf.Exchange(r.ctx(ctx), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	idt, err := r.verifyID(ctx, tok)
	if err != nil {
		return nil, err
	}
	if idt.Nonce != nonce {
		return nil, errors.New("ID token: nonce differs")
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("code exchange: no refresh token")
	}
	return tok, nil
}

// verifyID verifies the ID token of a token response with go-oidc.
func (r *rp) verifyID(ctx context.Context, tok *oauth2.Token) (*gooidc.IDToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("token response has no ID token")
	}
	idt, err := r.verifier.Verify(gooidc.ClientContext(ctx, r.api), raw)
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	return idt, nil
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	return send(c, req)
}

func send(c *http.Client, req *http.Request) (*http.Response, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// client is one module instance: it signed in once and loops refresh,
// then userinfo with the new access token, as long as the load runs.
type client struct {
	id      int
	rp      *rp
	browser *browser // signed in: its SSO session
	rt      string   // the refresh token it holds

	answers []answer // written by the loop only; read once it ended
	// lost says why the client can carry on no more (its refresh token
	// was refused); "" while it can.
	lost string
	// lastOK is the UnixNano of its last successful refresh.
	lastOK atomic.Int64
}

// signIn makes n clients, each signed in with its own browser (an SSO
// session) and holding its own refresh token family.
func signIn(t *testing.T, r *rp, n int) []*client {
	t.Helper()
	cs := make([]*client, n)
	for i := range cs {
		b := r.newBrowser()
		tok, err := r.authorize(t.Context(), b, true)
		if err != nil {
			t.Fatalf("client %d: sign-in: %v", i, err)
		}
		cs[i] = &client{id: i, rp: r, browser: b, rt: tok.RefreshToken}
	}
	return cs
}

// loop refreshes and calls userinfo until ctx ends. A 502, a 503 or a
// transport error is met by sending the same request again after
// retryPause — for a refresh, with the same refresh token, as a client
// that never saw the answer must. invalid_grant ends the loop: the family
// is gone. Anything else is recorded and the loop goes on.
func (c *client) loop(ctx context.Context) {
	for ctx.Err() == nil {
		a, tok := c.refresh(ctx)
		if ctx.Err() != nil {
			return // cut off by the end of the load: not an answer
		}
		c.answers = append(c.answers, a)
		if a.code == "invalid_grant" {
			c.lost = a.String()
			return
		}
		if !a.ok {
			pause(ctx, retryPause)
			continue
		}
		c.rt = tok.RefreshToken
		c.lastOK.Store(a.at.UnixNano())
		for ctx.Err() == nil {
			u := c.userinfo(ctx, tok.AccessToken)
			if ctx.Err() != nil {
				return
			}
			c.answers = append(c.answers, u)
			if !u.retryable() {
				break
			}
			pause(ctx, retryPause)
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// refresh redeems the client's refresh token with x/oauth2 and verifies
// the new ID token with go-oidc.
func (c *client) refresh(ctx context.Context) (answer, *oauth2.Token) {
	a := answer{client: c.id, op: "refresh", sent: time.Now()}
	tok, err := c.rp.conf.TokenSource(c.rp.ctx(ctx), &oauth2.Token{RefreshToken: c.rt}).Token()
	a.at = time.Now()
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		a.status, a.code = re.Response.StatusCode, re.ErrorCode
		a.retryAfter = re.Response.Header.Get("Retry-After") != ""
		if a.code == "" {
			a.err = fmt.Sprintf("%.200s", oneLine(string(re.Body)))
		}
		return a, nil
	case err != nil:
		a.err = oneLine(err.Error())
		return a, nil
	}
	a.status = http.StatusOK
	switch _, err := c.rp.verifyID(ctx, tok); {
	case err != nil:
		a.err = err.Error()
	case tok.AccessToken == "" || tok.RefreshToken == "" || tok.RefreshToken == c.rt:
		a.err = "no new access and refresh token"
	default:
		a.ok = true
	}
	return a, tok
}

// userinfo calls the userinfo endpoint with a fresh access token.
func (c *client) userinfo(ctx context.Context, at string) answer {
	a := answer{client: c.id, op: "userinfo", sent: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.rp.userinfo, nil)
	if err != nil {
		a.err = err.Error()
		return a
	}
	req.Header.Set("Authorization", "Bearer "+at)
	resp, body, err := send(c.rp.api, req)
	a.at = time.Now()
	if err != nil {
		a.err = oneLine(err.Error())
		return a
	}
	a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After") != ""
	var v struct {
		Sub   string `json:"sub"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	if resp.StatusCode != http.StatusOK {
		a.code = v.Error
		// RFC 6750: a bearer token refused says so in WWW-Authenticate.
		if a.code == "" {
			if _, after, ok := strings.Cut(resp.Header.Get("WWW-Authenticate"), `error="`); ok {
				a.code, _, _ = strings.Cut(after, `"`)
			}
		}
		return a
	}
	if v.Sub == "" {
		a.err = "userinfo without sub"
		return a
	}
	a.ok = true
	return a
}

// load is the clients looping together.
type load struct {
	clients []*client
	start   time.Time
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startLoad starts every client's loop.
func startLoad(clients []*client) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{clients: clients, start: time.Now(), cancel: cancel}
	for _, c := range clients {
		l.wg.Go(func() { c.loop(ctx) })
	}
	return l
}

// stop ends the loops and waits for them.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// waitCarryOn waits until every client has refreshed successfully after
// since, or timeout passes; it returns how long after since that was
// (within 20 ms; timeout if a client did not).
func (l *load) waitCarryOn(since time.Time, timeout time.Duration) time.Duration {
	deadline := since.Add(timeout)
	for time.Now().Before(deadline) {
		if !slices.ContainsFunc(l.clients, func(c *client) bool { return c.lastOK.Load() < since.UnixNano() }) {
			return time.Since(since)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return timeout
}

// verdict is what the load saw, judged. allowed says which unsuccessful
// answers are part of the contract (a 503 with Retry-After, say).
type verdict struct {
	total, during map[string]int // answers by "op status code", overall and during the fault
	bad           []answer       // answers outside the contract, in order
	lost          []string       // the clients whose refresh token was refused, and how
	notBack       []int          // clients without a successful refresh after the fault
	recovery      []time.Duration
}

// judge sorts every answer of l: faultStart..faultEnd is the fault, and a
// client has recovered with its first successful refresh answered after
// faultEnd.
func (l *load) judge(faultStart, faultEnd time.Time, allowed func(answer) bool) verdict {
	v := verdict{total: map[string]int{}, during: map[string]int{}}
	for _, c := range l.clients {
		var back time.Duration = -1
		for _, a := range c.answers {
			key := fmt.Sprintf("%s %d", a.op, a.status)
			if a.code != "" {
				key += " " + a.code
			}
			if a.status == 0 {
				key = a.op + " no-answer"
			}
			v.total[key]++
			if !a.at.Before(faultStart) && !a.sent.After(faultEnd) {
				v.during[key]++
			}
			if !a.ok && !allowed(a) {
				v.bad = append(v.bad, a)
			}
			if a.ok && a.op == "refresh" && back < 0 && a.at.After(faultEnd) {
				back = a.at.Sub(faultEnd)
			}
		}
		if c.lost != "" {
			v.lost = append(v.lost, c.lost)
		}
		if back < 0 && c.lost == "" {
			v.notBack = append(v.notBack, c.id)
		} else {
			v.recovery = append(v.recovery, back)
		}
	}
	slices.SortFunc(v.bad, func(a, b answer) int { return a.at.Compare(b.at) })
	return v
}

// report logs the verdict and fails t for every broken promise.
func (v verdict) report(t *testing.T, l *load) {
	t.Helper()
	t.Logf("answers: %s", counts(v.total))
	t.Logf("answers during the fault: %s", counts(v.during))
	if len(v.recovery) > 0 {
		slices.Sort(v.recovery)
		t.Logf("recovery (fault over → first successful refresh), per client: min %v, median %v, max %v",
			v.recovery[0].Round(time.Millisecond), v.recovery[len(v.recovery)/2].Round(time.Millisecond),
			v.recovery[len(v.recovery)-1].Round(time.Millisecond))
	}
	for i, a := range v.bad {
		if i == 20 {
			t.Errorf("… and %d more answers outside the contract", len(v.bad)-20)
			break
		}
		t.Errorf("at +%.3fs (%s UTC): %s", a.at.Sub(l.start).Seconds(), a.at.UTC().Format("15:04:05.000"), a)
	}
	for _, s := range v.lost {
		t.Errorf("refresh token lost: %s", s)
	}
	if len(v.notBack) > 0 {
		t.Errorf("clients %v did not refresh successfully after the fault", v.notBack)
	}
}

// counts shows a count map sorted by key.
func counts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// unavailable503 is the outage contract: 503 with Retry-After, and at
// the token endpoint the error temporarily_unavailable.
func unavailable503(a answer) bool {
	return a.status == http.StatusServiceUnavailable && a.retryAfter &&
		(a.op != "refresh" || a.code == "temporarily_unavailable")
}
