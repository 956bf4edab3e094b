package oidcprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Defaults of the per-source throttle of failed client authentication.
const (
	// DefaultClientAuthLimit failures from one source within
	// DefaultClientAuthLockFor lock that source out of client
	// authentication for DefaultClientAuthLockFor (the sign-in pages'
	// per-source limit and lock).
	DefaultClientAuthLimit   = signin.DefaultSourceLimit
	DefaultClientAuthLockFor = signin.DefaultLockFor
)

// ClientAuthKey is the throttle key counting failed client
// authentications from a client address: the sign-in source key (IPv6 per
// /64) under its own prefix, so that a misconfigured module does not lock
// the people behind the same address out of signing in.
func ClientAuthKey(addr string) string { return "client-auth:" + signin.SourceKey(addr) }

// clientAuthCall is what one request to an endpoint that authenticates
// clients (token, introspection, revocation) learns while op handles it.
type clientAuthCall struct {
	// busy: the secret could not be checked because the process-wide
	// hashing bound was exhausted; the answer becomes 503.
	busy bool
	// read: the client with id was read in this request (by
	// clientAuthGuard, with the source's throttle counter, or by op's
	// first lookup); client is the zero Client when there is none. op
	// looks the caller up several times per request (GetClientByClientID,
	// AuthorizeClientIDSecret, the grant's checks, introspection's
	// caller): those lookups take it from here (Storage.client). It lives
	// as long as the request: nothing is kept across requests, so a secret
	// change or a deleted client takes effect on the next request.
	read   bool
	id     string
	client storage.Client
	// tokenID: the access token with this id was read along with the
	// client (introspection: clientAuthGuard's tokenID), token and user as
	// GetAccessTokenUser reads them, token the zero AccessToken when there
	// is none. The id comes from the request's token unverified, so the
	// row is only a lookup made early: accessTokenUser hands it out for
	// the token id op verified and for no other. Like the client, it lives
	// as long as the request.
	tokenID string
	token   storage.AccessToken
	user    storage.User
}

// keep records client id, read as c (the zero Client when there is
// none), as this request's client, unless the request read one already.
func (call *clientAuthCall) keep(id string, c storage.Client) {
	if !call.read {
		call.read, call.id, call.client = true, id, c
	}
}

type clientAuthCtxKey struct{}

// markBusy records on the request in ctx that its client secret could not
// be checked.
func markBusy(ctx context.Context) {
	if c, ok := ctx.Value(clientAuthCtxKey{}).(*clientAuthCall); ok {
		c.busy = true
	}
}

// client reads client id, once per request to an endpoint behind
// clientAuthGuard (see clientAuthCall.read); an unknown client is
// storage.ErrNotFound, as from the store. Elsewhere it reads the store.
func (s *Storage) client(ctx context.Context, id string) (storage.Client, error) {
	call, _ := ctx.Value(clientAuthCtxKey{}).(*clientAuthCall)
	if call != nil && call.read && call.id == id {
		if call.client.ID == "" {
			return storage.Client{}, fmt.Errorf("client %q: %w", id, storage.ErrNotFound)
		}
		return call.client, nil
	}
	c, err := s.store.GetClient(ctx, id)
	if call != nil && (err == nil || errors.Is(err, storage.ErrNotFound)) {
		call.keep(id, c)
	}
	return c, err
}

// accessTokenUser reads access token id with its user and roles
// (GetAccessTokenUser), or takes them from this request's clientAuthCall
// when clientAuthGuard read that same id along with the client.
func (s *Storage) accessTokenUser(ctx context.Context, id string) (storage.AccessToken, storage.User, error) {
	call, _ := ctx.Value(clientAuthCtxKey{}).(*clientAuthCall)
	if call != nil && call.tokenID != "" && call.tokenID == id {
		if call.token.ID == "" {
			return storage.AccessToken{}, storage.User{}, fmt.Errorf("access token: %w", storage.ErrNotFound)
		}
		return call.token, call.user, nil
	}
	return s.store.GetAccessTokenUser(ctx, id)
}

// clientAuthGuard throttles failed client authentication per source
// address, like failed sign-ins are throttled: a request that presents a
// client secret from a source with too many recent failures is refused
// with 429 and a Retry-After before anything is looked up or hashed, and
// every answer of 401 (invalid_client: unknown client id, wrong or missing
// secret) counts one failure against the source. A secret that could not
// be checked because hashing is at capacity is answered 503
// temporarily_unavailable with a Retry-After and counts nothing.
//
// Why 429 and not 401 invalid_client for a throttled source: RFC 6749
// §5.2 gives invalid_client for a client whose authentication failed, and
// a correct module behind a throttled address would read it as "your
// secret is wrong" (and page someone, or rotate it) although nothing was
// checked. RFC 6585 §4 defines 429 with Retry-After for exactly this case,
// and HTTP clients back off on it.
//
// tokenID, when not nil, names an access token the endpoint will look up
// (introspection: introspectedTokenID); it is read in the same statement
// as the client and the counter, and kept on the request's clientAuthCall.
func (p *Provider) clientAuthGuard(next http.Handler, tokenID func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if !p.parseOAuthForm(w, r) {
			return
		}
		ctx := r.Context()
		src := sourceAddr(r)
		call := &clientAuthCall{}
		if src != "" && presentsSecret(r) {
			// The source's counter, the client it names and the token
			// asked about, in one read: op's lookups of that client in
			// this request take it from call (Storage.client), and so
			// does the token's lookup (Storage.accessTokenUser).
			id, tid := presentedClientID(r), ""
			if tokenID != nil {
				tid = tokenID(r)
			}
			c, th, tok, u, err := p.storage.store.GetClientThrottleToken(ctx, id, ClientAuthKey(src), tid)
			if err != nil {
				p.logger().ErrorContext(ctx, "client authentication: reading client and throttle", "err", err)
				writeUnavailable(w, storage.RetryAfter, "the server cannot check client credentials now; retry later")
				return
			}
			retry := p.clientAuth.lockedFor(th)
			if retry > 0 {
				p.logger().InfoContext(ctx, "client authentication refused: source throttled", "source", ClientAuthKey(src))
				w.Header().Set("Retry-After", seconds(retry))
				writeOAuthError(w, http.StatusTooManyRequests, "temporarily_unavailable",
					"too many failed client authentications from this address; retry later")
				return
			}
			if id != "" {
				call.keep(id, c)
			}
			call.tokenID, call.token, call.user = tid, tok, u
		}
		cw := &clientAuthWriter{ResponseWriter: w, call: call}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(ctx, clientAuthCtxKey{}, call)))
		// Nothing was checked when hashing was at capacity or the
		// database unavailable: not a failure to count.
		if cw.status == http.StatusUnauthorized && !call.busy && !storage.OutageSeen(ctx) && src != "" {
			p.clientAuth.fail(ctx, src)
		}
	})
}

// presentsSecret reports whether r carries a client secret or assertion.
func presentsSecret(r *http.Request) bool {
	if _, _, ok := r.BasicAuth(); ok {
		return true
	}
	return r.PostForm.Get("client_secret") != "" || r.PostForm.Get("client_assertion") != ""
}

// presentedClientID is the client id r authenticates with, as op reads
// it: the Basic user (form-encoded, RFC 6749 §2.3.1) or else the form's
// client_id; "" when there is none or it does not decode.
func presentedClientID(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok {
		id, err := url.QueryUnescape(user)
		if err != nil {
			return ""
		}
		return id
	}
	return r.PostForm.Get("client_id")
}

// introspectedTokenID is the jti of the token r asks introspection about
// when that looks like a JWT, our access tokens' form (their jti is the
// access token's id, see issueAccessToken), and "" otherwise. Nothing is
// verified here: the id only names the row to read along with the client.
// The introspection handler verifies the token afterwards (it takes the
// same, single, token value), and the row is used only for the id it
// verified (Storage.accessTokenUser).
func introspectedTokenID(r *http.Request) string {
	header, rest, ok := strings.Cut(r.PostForm.Get("token"), ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || header == "" || sig == "" || strings.Contains(sig, ".") {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	return claims.JTI
}

// sourceAddr is the client's IP address: the connection's peer, which the
// server rewrites from X-Forwarded-For only for trusted proxies.
func sourceAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// clientAuthWriter remembers the status op answered with, and replaces an
// error answer by 503 when the secret could not be checked.
type clientAuthWriter struct {
	http.ResponseWriter
	call     *clientAuthCall
	status   int
	replaced bool
}

func (cw *clientAuthWriter) WriteHeader(code int) {
	if cw.status != 0 {
		return
	}
	cw.status = code
	if cw.call.busy && code >= 400 {
		cw.replaced = true
		h := cw.Header()
		h.Del("Content-Length")
		h.Del("WWW-Authenticate")
		writeUnavailable(cw.ResponseWriter, password.RetryAfter, "the server is busy; retry shortly")
		return
	}
	cw.ResponseWriter.WriteHeader(code)
}

func (cw *clientAuthWriter) Write(b []byte) (int, error) {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.replaced {
		return len(b), nil
	}
	return cw.ResponseWriter.Write(b)
}

// writeUnavailable answers 503 temporarily_unavailable with Retry-After.
func writeUnavailable(w http.ResponseWriter, retry time.Duration, desc string) {
	w.Header().Set("Retry-After", seconds(retry))
	writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", desc)
}

// seconds is d in whole seconds, rounded up, at least 1.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// clientThrottle counts failed client authentications per source in the
// store, so every replica sees the same counters.
type clientThrottle struct {
	store   storage.Storage
	limit   int
	lockFor time.Duration // also the counting window
	now     func() time.Time
	logger  *slog.Logger
}

// lockedFor is how long the source whose counter is th stays locked out
// (0: not locked).
func (t *clientThrottle) lockedFor(th storage.Throttle) time.Duration {
	now := t.now()
	if th.LockedUntil.After(now) {
		return th.LockedUntil.Sub(now)
	}
	return 0
}

// fail counts one failure from src. A store error is logged: the answer
// (401) stands either way.
func (t *clientThrottle) fail(ctx context.Context, src string) {
	now := t.now()
	th, err := t.store.RecordFailure(ctx, ClientAuthKey(src), storage.Failure{
		Now: now, ResetBefore: now.Add(-t.lockFor), LockAfter: t.limit, LockUntil: now.Add(t.lockFor),
	})
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		t.logger.ErrorContext(ctx, "client authentication: counting failure", "err", err)
	case err == nil && th.Failures == t.limit:
		t.logger.WarnContext(ctx, "client authentication: source throttled", "source", th.Key, "until", th.LockedUntil)
	}
}
