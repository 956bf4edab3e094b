package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

const (
	// DefaultCookieName is the cookie's name over plain HTTP (development).
	DefaultCookieName = "cc_session"
	// SecureCookieName is the cookie's name over HTTPS. The __Host- prefix
	// makes the browser insist on Secure, Path=/ and no Domain, so no
	// sibling host can plant or read it.
	SecureCookieName = "__Host-cc_session"
	// DefaultTTL is how long a session lasts when Manager.TTL is zero.
	DefaultTTL = 12 * time.Hour
	// touchEvery is how stale LastSeenAt may get before Current updates
	// it: one write a minute per session at most, not one per request.
	touchEvery = time.Minute
	// idBytes is the number of random bytes in a session id (256 bits).
	idBytes = 32
)

// Manager starts, finds and ends browser sessions. The zero value of every
// field but Store has a sensible default.
type Manager struct {
	Store storage.Storage
	// Secure marks the cookie Secure and names it SecureCookieName. Set it
	// whenever the issuer is https.
	Secure bool
	// TTL is a session's lifetime from sign-in; DefaultTTL when zero.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CookieName overrides the cookie's name (DefaultCookieName, or
	// SecureCookieName when Secure).
	CookieName string
	// Logger receives store failures that Current cannot return;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// HashID returns the store key of a raw session id: the hex SHA-256 of the
// cookie value.
func HashID(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Start creates a session for userID, authenticated now with the methods
// amr (for example ["pwd"]), stores its hash and sets the cookie on w.
// AuthTime is truncated to whole seconds, as auth_time is sent. The
// session is signed in by email unless an option (ByPhone) says otherwise.
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, userID string, amr []string, opts ...Option) (storage.Session, error) {
	buf := make([]byte, idBytes)
	if _, err := rand.Read(buf); err != nil {
		return storage.Session{}, fmt.Errorf("session: reading random id: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(buf)
	now := m.now()
	s := storage.Session{
		IDHash:     HashID(raw),
		UserID:     userID,
		AuthTime:   now.Truncate(time.Second),
		AMR:        amr,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(m.ttl()),
		// Set explicitly: only a session signed in by email may answer a
		// client that signs in by email.
		SignInMethod: storage.SignInEmail,
	}
	for _, o := range opts {
		o(&s)
	}
	if err := m.Store.CreateSession(ctx, s); err != nil {
		return storage.Session{}, fmt.Errorf("session: storing session: %w", err)
	}
	http.SetCookie(w, m.cookie(raw, s.ExpiresAt, int(m.ttl()/time.Second)))
	return s, nil
}

// Replace ends the request's current session, if it has one, and starts a
// new one for userID: after a fresh sign-in the browser never keeps an id it
// had before (session fixation), and prompt=login replaces the old session.
// Only the new cookie is set. The session's device description is r's
// User-Agent (see Device) unless an option sets another.
func (m *Manager) Replace(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string, amr []string, opts ...Option) (storage.Session, error) {
	if raw, ok := m.rawID(r); ok {
		err := m.Store.RevokeSession(ctx, HashID(raw), m.now())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storage.Session{}, fmt.Errorf("session: revoking previous session: %w", err)
		}
	}
	return m.Start(ctx, w, userID, amr, append([]Option{WithDevice(Device(r.UserAgent()))}, opts...)...)
}

// Current returns the request's valid session: its cookie names a session
// that is neither expired nor revoked. It reports false for no cookie, a
// malformed or unknown one, and when the store fails (that is logged).
func (m *Manager) Current(r *http.Request) (storage.Session, bool) {
	raw, ok := m.rawID(r)
	if !ok {
		return storage.Session{}, false
	}
	ctx := r.Context()
	now := m.now()
	id := HashID(raw)
	s, err := m.Store.GetSession(ctx, id, now)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			m.logger().ErrorContext(ctx, "session: reading session", "err", err)
		}
		return storage.Session{}, false
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := m.Store.TouchSession(ctx, id, now); err != nil {
			m.logger().WarnContext(ctx, "session: recording activity", "session", s, "err", err)
		} else {
			s.LastSeenAt = now
		}
	}
	return s, true
}

// End revokes the request's session, if it has one, and expires the cookie.
// The cookie is expired even when revoking fails; an unknown session is not
// an error.
func (m *Manager) End(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, m.cookie("", time.Unix(0, 0), -1))
	raw, ok := m.rawID(r)
	if !ok {
		return nil
	}
	err := m.Store.RevokeSession(ctx, HashID(raw), m.now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("session: revoking session: %w", err)
	}
	return nil
}

// Name is the cookie's name.
func (m *Manager) Name() string {
	switch {
	case m.CookieName != "":
		return m.CookieName
	case m.Secure:
		return SecureCookieName
	}
	return DefaultCookieName
}

// rawID returns the cookie's value when it has the shape of a session id,
// so that garbage never reaches the store.
func (m *Manager) rawID(r *http.Request) (string, bool) {
	c, err := r.Cookie(m.Name())
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(idBytes) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

func (m *Manager) cookie(value string, expires time.Time, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     m.Name(),
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   maxAge,
		Secure:   m.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) ttl() time.Duration {
	if m.TTL > 0 {
		return m.TTL
	}
	return DefaultTTL
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
