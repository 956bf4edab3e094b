package binding

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
)

const (
	// CookieName is the cookie's name over plain HTTP (development).
	CookieName = "cc_bind"
	// SecureCookieName is its name over HTTPS: __Host- makes the browser
	// insist on Secure, Path=/ and no Domain, so no sibling host can plant
	// a value of its choosing.
	SecureCookieName = "__Host-cc_bind"
	// valueBytes is the entropy of a binding value (256 bits).
	valueBytes = 32
)

// Binder reads and sets the binding cookie. Secure must be set whenever the
// issuer is https.
type Binder struct {
	Secure bool
}

// Name is the cookie's name.
func (b Binder) Name() string {
	if b.Secure {
		return SecureCookieName
	}
	return CookieName
}

// Ensure returns the hash of the browser's binding value, first giving the
// browser a new value (Set-Cookie on w) when it has none. Every request the
// browser starts while it keeps the cookie is bound to the same value, so
// sign-ins in two tabs do not undo each other.
func (b Binder) Ensure(w http.ResponseWriter, r *http.Request) string {
	if raw, ok := b.value(r); ok {
		return Hash(raw)
	}
	buf := make([]byte, valueBytes)
	_, _ = rand.Read(buf) // never fails (crypto/rand)
	raw := base64.RawURLEncoding.EncodeToString(buf)
	http.SetCookie(w, &http.Cookie{
		Name:     b.Name(),
		Value:    raw,
		Path:     "/",
		Secure:   b.Secure,
		HttpOnly: true,
		// Lax: sent on the top-level navigations that carry a sign-in
		// (the client's redirect to /authorize, our own redirects), never
		// on another site's POST or subrequest.
		SameSite: http.SameSiteLaxMode,
	})
	return Hash(raw)
}

// Matches reports whether r comes from the browser whose binding value
// hashes to stored. A request stored without a hash matches nothing.
func (b Binder) Matches(r *http.Request, stored string) bool {
	raw, ok := b.value(r)
	if !ok || stored == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(Hash(raw)), []byte(stored)) == 1
}

// value returns the cookie's value when it has the shape of a binding
// value.
func (b Binder) value(r *http.Request) (string, bool) {
	c, err := r.Cookie(b.Name())
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(valueBytes) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

// Hash is what the store keeps of a binding value: its hex SHA-256.
func Hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

type ctxKey struct{}

// WithHash carries the binding hash from the /authorize wrapper to the
// storage adapter that creates the request (op calls it without the
// http.Request).
func WithHash(ctx context.Context, hash string) context.Context {
	return context.WithValue(ctx, ctxKey{}, hash)
}

// HashFrom returns the hash WithHash put into ctx, or "".
func HashFrom(ctx context.Context) string {
	h, _ := ctx.Value(ctxKey{}).(string)
	return h
}

// ErrOtherBrowser: the request was started in another browser (or the
// browser lost its cookie); it cannot go on here.
var ErrOtherBrowser = errors.New("binding: the sign-in request belongs to another browser")
