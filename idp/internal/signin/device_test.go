package signin_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

const attacker = "203.0.113.66" // another source than the victim's

// withDevices gives the fixture's Service device cookies under kek.
func (f *fixture) withDevices(t *testing.T, kek byte) *signin.Devices {
	t.Helper()
	d, err := signin.NewDevices(bytes.Repeat([]byte{kek}, 32), false)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Devices = d
	return d
}

// signInBrowser signs u in without a device cookie, as a browser does the
// first time, and returns the device cookie the page would set.
func (f *fixture) signInBrowser(t *testing.T, email string) string {
	t.Helper()
	u, err := f.svc.Authenticate(context.Background(), email, goodPassword, source, "")
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	return issue(t, f.svc.Devices, u)
}

func issue(t *testing.T, d *signin.Devices, u storage.User) string {
	t.Helper()
	rec := httptest.NewRecorder()
	d.Issue(rec, u.ID)
	for _, c := range rec.Result().Cookies() {
		if c.Name == signin.DeviceCookieName {
			return c.Value
		}
	}
	t.Fatal("no device cookie set")
	return ""
}

func (f *fixture) authFrom(addr, email, pw, device string) (storage.User, error) {
	return f.svc.Authenticate(context.Background(), email, pw, addr, device)
}

func isLocked(err error) bool {
	var locked *signin.LockedError
	return errors.As(err, &locked)
}

// OWASP device cookies: five wrong guesses from an attacker lock the
// account for every browser without a device cookie of it — the attacker's
// included, even with the right password — while the victim's browser, in
// which they signed in before, still signs in.
func TestDeviceCookieKeepsTheVictimIn(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.withDevices(t, 1)
		victim := f.user(t, "victim@example.com", storage.StatusActive, goodPassword)
		device := f.signInBrowser(t, "victim@example.com")

		for i := 1; i <= 5; i++ {
			_, err := f.authFrom(attacker, "victim@example.com", "guess", "")
			if (i < 5 && err != signin.ErrInvalidCredentials) || (i == 5 && !isLocked(err)) {
				t.Fatalf("attacker's guess %d: %v", i, err)
			}
		}
		if _, err := f.authFrom(attacker, "victim@example.com", goodPassword, ""); !isLocked(err) {
			t.Fatalf("untrusted attempt with the right password after the lock: %v, want LockedError", err)
		}
		if _, err := f.authFrom("198.51.100.20", "victim@example.com", goodPassword, ""); !isLocked(err) {
			t.Fatalf("another untrusted browser: %v, want LockedError", err)
		}
		u, err := f.authFrom(source, "victim@example.com", goodPassword, device)
		if err != nil || u.ID != victim.ID {
			t.Fatalf("victim's browser with its device cookie: %v, want success", err)
		}
		// The victim's own mistakes count against their device only.
		if _, err := f.authFrom(source, "victim@example.com", "typo", device); err != signin.ErrInvalidCredentials {
			t.Fatalf("victim's typo: %v, want ErrInvalidCredentials", err)
		}
		if _, err := f.authFrom(attacker, "victim@example.com", goodPassword, ""); !isLocked(err) {
			t.Fatalf("the victim's success lifted the lock for the attacker: %v", err)
		}
	})
}

// Only a cookie this provider issued for this very account exempts an
// attempt: a forged or altered one, another user's, one signed with
// another KEK, or garbage counts against the account like no cookie.
func TestDeviceCookieNoExemptionForOthers(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		d := f.withDevices(t, 1)
		victim := f.user(t, "victim@example.com", storage.StatusActive, goodPassword)
		f.user(t, "mallory@example.com", storage.StatusActive, goodPassword)
		own := f.signInBrowser(t, "mallory@example.com") // the attacker's own account
		genuine := issue(t, d, victim)

		other, err := signin.NewDevices(bytes.Repeat([]byte{2}, 32), false)
		if err != nil {
			t.Fatal(err)
		}
		otherKEK := issue(t, other, victim)
		parts := strings.Split(genuine, ".")
		if len(parts) != 4 {
			t.Fatalf("cookie %q: want 4 dot-separated parts", genuine)
		}
		flip := func(s string) string {
			b := []byte(s)
			b[0] ^= 'A' ^ 'B'
			if b[0] == s[0] {
				b[0] = 'C'
			}
			return string(b)
		}
		forged := map[string]string{
			"another user's":         own,
			"another KEK":            otherKEK,
			"altered nonce":          strings.Join([]string{parts[0], parts[1], flip(parts[2]), parts[3]}, "."),
			"altered MAC":            strings.Join([]string{parts[0], parts[1], parts[2], flip(parts[3])}, "."),
			"made-up MAC":            strings.Join([]string{parts[0], parts[1], parts[2], "AAAA"}, "."),
			"no MAC":                 strings.Join(parts[:3], "."),
			"garbage":                "not-a-device-cookie",
			"user id of the other":   strings.Join([]string{parts[0], strings.Split(own, ".")[1], parts[2], parts[3]}, "."),
			"genuine but very long":  genuine + strings.Repeat("A", 600),
			"victim's, from mallory": strings.Replace(own, strings.Split(own, ".")[1], parts[1], 1),
		}
		for name, cookie := range forged {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, st)
				f.svc.Devices, f.svc.SourceLimit = d, 1000
				email := "victim@example.com"
				t.Cleanup(func() {
					if err := st.ResetThrottle(context.Background(), signin.AccountKey(email)); err != nil {
						t.Error(err)
					}
				})
				for i := 1; i <= 5; i++ {
					_, err := f.authFrom(attacker, email, "guess", cookie)
					if (i < 5 && err != signin.ErrInvalidCredentials) || (i == 5 && !isLocked(err)) {
						t.Fatalf("guess %d with a %s cookie: %v; want the account's counter to lock at 5", i, name, err)
					}
				}
				if _, err := f.authFrom(attacker, email, goodPassword, cookie); !isLocked(err) {
					t.Fatalf("right password with a %s cookie after the lock: %v, want LockedError", name, err)
				}
				// The guesses locked the account's shared counter, not a
				// device's of their own.
				if _, err := f.authFrom("198.51.100.20", email, goodPassword, ""); !isLocked(err) {
					t.Fatalf("after 5 guesses with a %s cookie the account is not locked: %v", name, err)
				}
			})
		}
	})
}

// The device counter locks on its own after LockAfter failures (the
// trusted browser is not a way around the limit), without touching the
// account's counter.
func TestDeviceCounterLocksItself(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.withDevices(t, 1)
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		device := f.signInBrowser(t, "grace@example.com")
		for i := 1; i <= 5; i++ {
			_, err := f.authFrom(source, "grace@example.com", "wrong", device)
			if (i < 5 && err != signin.ErrInvalidCredentials) || (i == 5 && !isLocked(err)) {
				t.Fatalf("failure %d from the trusted browser: %v", i, err)
			}
		}
		var locked *signin.LockedError
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, device); !errors.As(err, &locked) || locked.RetryAfter != 15*time.Minute {
			t.Fatalf("right password on the locked device: %v, want LockedError for 15m", err)
		}
		if n := f.failures(t, signin.AccountKey("grace@example.com")); n != 0 {
			t.Fatalf("account counter = %d after the device's failures, want 0", n)
		}
		if _, err := f.authFrom("198.51.100.20", "grace@example.com", goodPassword, ""); err != nil {
			t.Fatalf("another browser while the device is locked: %v, want success", err)
		}
		f.clock.Advance(15*time.Minute + time.Second)
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, device); err != nil {
			t.Fatalf("the device after its lock: %v", err)
		}
	})
}

// Other people's failures from the same address (a clinic behind one NAT)
// throttle that address for browsers without a device cookie only.
func TestDeviceCookiePassesTheSourceThrottle(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.withDevices(t, 1)
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		device := f.signInBrowser(t, "grace@example.com")
		for i := range 20 {
			f.authFrom(source, "spray"+string(rune('a'+i))+"@example.com", "Winter2026!", "")
		}
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, ""); !isLocked(err) {
			t.Fatalf("untrusted browser from the throttled source: %v, want LockedError", err)
		}
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, device); err != nil {
			t.Fatalf("trusted browser from the throttled source: %v, want success", err)
		}
	})
}

// The cookie: HttpOnly, SameSite=Strict, Path=/, long-lived; on https
// Secure with the __Host- prefix.
func TestDeviceCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		d, err := signin.NewDevices(bytes.Repeat([]byte{1}, 32), secure)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		d.Issue(rec, "u1")
		cs := rec.Result().Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies: %v", cs)
		}
		c := cs[0]
		want := map[bool]string{false: signin.DeviceCookieName, true: signin.SecureDeviceCookieName}[secure]
		if c.Name != want || !c.HttpOnly || c.Secure != secure || c.Path != "/" || c.Domain != "" ||
			c.SameSite != http.SameSiteStrictMode || c.MaxAge < 300*24*3600 {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		if secure && !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("https cookie %s lacks __Host-", c.Name)
		}
		req := httptest.NewRequest(http.MethodPost, "/login", nil)
		req.AddCookie(c)
		if got := d.Value(req); got != c.Value {
			t.Errorf("Value = %q, want %q", got, c.Value)
		}
	}
}
