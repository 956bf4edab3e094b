package server_test

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestRefreshRetry: a client that sends the same refresh token again
// because it never saw the answer gets a working pair each time, and the
// successor it never saw stops working; sent again after the reuse window,
// or after a successor was used, the token revokes its family. On every
// backend, through the real token endpoint with x/oauth2.
func TestRefreshRetry(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			clock := &testenv.ShiftedClock{}
			e := &env{t: t, now: clock.Now}
			e.start(b.dsn(t))
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			window := e.cfg.RefreshReuseWindow

			t.Run("retry within the window", func(t *testing.T) {
				f, tok, _ := e.login(t, c, u)
				lost, err := e.refresh(f.cfg, tok.RefreshToken) // the answer the client never saw
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(window / 3)
				first, err := e.refresh(f.cfg, tok.RefreshToken)
				if err != nil {
					t.Fatalf("first retry: %v, want a working pair", err)
				}
				clock.Advance(window / 3)
				second, err := e.refresh(f.cfg, tok.RefreshToken)
				if err != nil {
					t.Fatalf("second retry: %v, want a working pair", err)
				}
				if !e.introspect(t, c, second.AccessToken) {
					t.Error("the retry's access token is not active")
				}
				for name, rt := range map[string]string{"the lost successor": lost.RefreshToken, "the first retry's successor": first.RefreshToken} {
					if _, err := e.refresh(f.cfg, rt); errorCode(err) != "invalid_grant" {
						t.Errorf("%s: %v, want invalid_grant", name, err)
					}
				}
				if _, err := e.refresh(f.cfg, second.RefreshToken); err != nil {
					t.Errorf("the last retry's successor: %v, want it to work", err)
				}
			})
			t.Run("retry after the successor was used", func(t *testing.T) {
				f, tok, _ := e.login(t, c, u)
				next, err := e.refresh(f.cfg, tok.RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				newest, err := e.refresh(f.cfg, next.RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
					t.Fatalf("old token after its successor was used: %v, want invalid_grant", err)
				}
				if _, err := e.refresh(f.cfg, newest.RefreshToken); errorCode(err) != "invalid_grant" {
					t.Errorf("newest token after the reuse: %v, want invalid_grant (family revoked)", err)
				}
				if e.introspect(t, c, newest.AccessToken) {
					t.Error("newest access token still active after the reuse")
				}
			})
			t.Run("retry after the window", func(t *testing.T) {
				f, tok, _ := e.login(t, c, u)
				next, err := e.refresh(f.cfg, tok.RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(window + time.Second)
				if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
					t.Fatalf("old token after the window: %v, want invalid_grant", err)
				}
				if _, err := e.refresh(f.cfg, next.RefreshToken); errorCode(err) != "invalid_grant" {
					t.Errorf("successor after a late reuse: %v, want invalid_grant (family revoked)", err)
				}
			})
		})
	}
}
