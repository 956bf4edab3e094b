package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// newManager is a session manager on st with a test clock.
func newManager(st storage.Storage, secure bool) (*session.Manager, *testenv.Clock) {
	c := testenv.NewClock(time.Now().UTC().Truncate(time.Second).Add(500 * time.Millisecond))
	return &session.Manager{Store: st, Secure: secure, TTL: 8 * time.Hour, Now: c.Now}, c
}

// start runs Start and returns the session and the cookie it set.
func start(t *testing.T, m *session.Manager, userID string) (storage.Session, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := m.Start(context.Background(), rec, userID, []string{"pwd"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Start set %d cookies, want 1", len(cookies))
	}
	return s, cookies[0]
}

func requestWith(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/login", nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func TestStartSetsCookieAndStoresOnlyTheHash(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		u := createUser(t, st, "ada@example.com")
		for _, secure := range []bool{false, true} {
			m, clk := newManager(st, secure)
			s, c := start(t, m, u.ID)

			wantName := "cc_session"
			if secure {
				wantName = "__Host-cc_session"
			}
			if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.Domain != "" {
				t.Errorf("secure=%v: cookie %+v: want %s, HttpOnly, SameSite=Lax, Path=/, Secure=%v, no Domain", secure, c, wantName, secure)
			}
			if want := clk.Now().Add(8 * time.Hour); !c.Expires.Equal(want.Truncate(time.Second)) || c.MaxAge != int((8*time.Hour).Seconds()) {
				t.Errorf("cookie expires %v max-age %d, want %v and %d", c.Expires, c.MaxAge, want, int((8 * time.Hour).Seconds()))
			}
			raw, err := base64.RawURLEncoding.DecodeString(c.Value)
			if err != nil || len(raw) != 32 {
				t.Errorf("cookie value is not 32 base64url bytes: %d bytes, %v", len(raw), err)
			}
			if s.IDHash != session.HashID(c.Value) || len(s.IDHash) != 64 {
				t.Errorf("IDHash %q is not the hex SHA-256 of the cookie", s.IDHash)
			}
			if s.UserID != u.ID || !slices.Equal(s.AMR, []string{"pwd"}) || !s.AuthTime.Equal(clk.Now().Truncate(time.Second)) {
				t.Errorf("session = %+v", s)
			}
			ctx := context.Background()
			if _, err := st.GetSession(ctx, s.IDHash, clk.Now()); err != nil {
				t.Errorf("stored under its hash: %v", err)
			}
			if _, err := st.GetSession(ctx, c.Value, clk.Now()); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the raw id must not be a store key: err = %v", err)
			}
		}
	})
}

func TestStartMakesDistinctIDs(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		u := createUser(t, st, "ada@example.com")
		m, _ := newManager(st, false)
		seen := map[string]bool{}
		for range 20 {
			_, c := start(t, m, u.ID)
			if seen[c.Value] {
				t.Fatal("session id repeated")
			}
			seen[c.Value] = true
		}
	})
}

func TestCurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		u := createUser(t, st, "ada@example.com")
		m, clk := newManager(st, false)
		s, c := start(t, m, u.ID)

		got, ok := m.Current(requestWith(c))
		if !ok || got.IDHash != s.IDHash || got.UserID != u.ID || !slices.Equal(got.AMR, []string{"pwd"}) {
			t.Fatalf("Current = %+v, %v; want the started session", got, ok)
		}
		for name, r := range map[string]*http.Request{
			"no cookie":      requestWith(nil),
			"garbage":        requestWith(&http.Cookie{Name: c.Name, Value: "not-a-session"}),
			"unknown id":     requestWith(&http.Cookie{Name: c.Name, Value: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}),
			"the hash":       requestWith(&http.Cookie{Name: c.Name, Value: s.IDHash}),
			"another cookie": requestWith(&http.Cookie{Name: "other", Value: c.Value}),
		} {
			if _, ok := m.Current(r); ok {
				t.Errorf("%s: Current reported a session", name)
			}
		}
		clk.Advance(8*time.Hour + time.Second)
		if _, ok := m.Current(requestWith(c)); ok {
			t.Error("expired session still current")
		}
	})
}

func TestCurrentTouchesAtMostOnceAMinute(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		u := createUser(t, st, "ada@example.com")
		m, clk := newManager(st, false)
		s, c := start(t, m, u.ID)
		lastSeen := func() time.Time {
			got, err := st.GetSession(ctx, s.IDHash, clk.Now())
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			return got.LastSeenAt
		}
		started := lastSeen()

		clk.Advance(30 * time.Second)
		m.Current(requestWith(c))
		if got := lastSeen(); !got.Equal(started) {
			t.Errorf("touched after 30s: last seen %v, want %v", got, started)
		}
		clk.Advance(31 * time.Second)
		got, _ := m.Current(requestWith(c))
		if want := clk.Now(); !lastSeen().Equal(want) || !got.LastSeenAt.Equal(want) {
			t.Errorf("after 61s: last seen %v (returned %v), want %v", lastSeen(), got.LastSeenAt, want)
		}
	})
}

func TestEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		u := createUser(t, st, "ada@example.com")
		m, clk := newManager(st, true)
		s, c := start(t, m, u.ID)

		rec := httptest.NewRecorder()
		if err := m.End(ctx, rec, requestWith(c)); err != nil {
			t.Fatalf("End: %v", err)
		}
		if _, ok := m.Current(requestWith(c)); ok {
			t.Error("session still current after End")
		}
		if _, err := st.GetSession(ctx, s.IDHash, clk.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("session not revoked in the store: %v", err)
		}
		assertExpiredCookie(t, rec, "__Host-cc_session")

		// Without a session, End only clears the cookie.
		rec = httptest.NewRecorder()
		if err := m.End(ctx, rec, requestWith(nil)); err != nil {
			t.Errorf("End without a session: %v", err)
		}
		assertExpiredCookie(t, rec, "__Host-cc_session")
		// Ending an already revoked session is fine too.
		if err := m.End(ctx, httptest.NewRecorder(), requestWith(c)); err != nil {
			t.Errorf("End twice: %v", err)
		}
	})
}

func assertExpiredCookie(t *testing.T, rec *httptest.ResponseRecorder, name string) {
	t.Helper()
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != name || cs[0].MaxAge >= 0 || cs[0].Value != "" || !cs[0].HttpOnly || !cs[0].Secure {
		t.Errorf("want one expired %s cookie, got %+v", name, cs)
	}
}

func TestReplace(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		u := createUser(t, st, "ada@example.com")
		m, _ := newManager(st, false)
		old, oldCookie := start(t, m, u.ID)

		rec := httptest.NewRecorder()
		s, err := m.Replace(ctx, rec, requestWith(oldCookie), u.ID, []string{"pwd"})
		if err != nil {
			t.Fatalf("Replace: %v", err)
		}
		cs := rec.Result().Cookies()
		if len(cs) != 1 || cs[0].Value == oldCookie.Value || session.HashID(cs[0].Value) != s.IDHash {
			t.Fatalf("Replace must set exactly the new cookie, got %+v", cs)
		}
		if _, ok := m.Current(requestWith(oldCookie)); ok {
			t.Error("old session still current")
		}
		if got, ok := m.Current(requestWith(cs[0])); !ok || got.IDHash == old.IDHash {
			t.Error("new session not current")
		}
	})
}

func TestCookieNameOverride(t *testing.T) {
	m := &session.Manager{CookieName: "x"}
	if m.Name() != "x" {
		t.Errorf("Name = %q", m.Name())
	}
	if (&session.Manager{}).Name() != "cc_session" || (&session.Manager{Secure: true}).Name() != "__Host-cc_session" {
		t.Error("default names wrong")
	}
}
