package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// A session records how it was signed in and on what device: Replace
// takes the request's User-Agent, ByPhone marks a phone sign-in, and both
// are stored.
func TestSessionMethodAndDevice(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		u := createUser(t, st, "ada@example.com")
		m, clk := newManager(st, false)
		ctx := context.Background()
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.Header.Set("User-Agent", "Firefox/128.0")

		email, err := m.Replace(ctx, httptest.NewRecorder(), r, u.ID, []string{"pwd"})
		if err != nil {
			t.Fatal(err)
		}
		phone, err := m.Replace(ctx, httptest.NewRecorder(), r, u.ID, []string{"pin"}, session.ByPhone("Safari on iPhone"))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := start(t, m, u.ID)
		for _, tc := range []struct {
			s              storage.Session
			method, device string
		}{
			{email, storage.SignInEmail, "Firefox/128.0"},
			{phone, storage.SignInPhone, "Safari on iPhone"},
			{plain, storage.SignInEmail, ""},
		} {
			got, err := st.GetSession(ctx, tc.s.IDHash, clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got.SignInMethod != tc.method || got.Device != tc.device {
				t.Errorf("stored session: method %q device %q, want %q %q", got.SignInMethod, got.Device, tc.method, tc.device)
			}
		}
	})
}

func TestDevice(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	for in, want := range map[string]string{
		"":                                  "",
		"  Mozilla/5.0  (X11;\tLinux)\r\n ": "Mozilla/5.0 (X11; Linux)",
		"bad\x00\x1b[31mcontrol\x7f":        "bad[31mcontrol",
		"invalid \xff\xfe utf8":             "invalid utf8",
		long:                                strings.Repeat("é", 100),
	} {
		if got := session.Device(in); got != want {
			t.Errorf("Device(%q) = %q, want %q", in, got, want)
		}
	}
}
