package server_test

import (
	"context"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestClientPolicyChangeEndsGrants: a client's sign-in policy changed by an
// administrator applies to the grants made under the old one at their next
// refresh: requiring two factors ends a family signed in with the password
// alone, and switching the client to phone sign-in ends a family signed in
// by email. A grant that still fits keeps refreshing.
func TestClientPolicyChangeEndsGrants(t *testing.T) {
	e := newEnv(t, backends[0])
	u := e.createUser(t, storage.UserTypeClinician)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(*storage.Client)
		fits   bool
	}{
		{"two factors required", func(c *storage.Client) { c.RequireMFA = true }, false},
		{"phone sign-in", func(c *storage.Client) { c.SignInMethod = storage.SignInPhone }, false},
		{"renamed", func(c *storage.Client) { c.Name = "Renamed" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.createClient(t)
			f, tok, _ := e.login(t, c, u, "offline_access")
			next, err := e.refresh(f.cfg, tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh under the policy it was signed in with: %v", err)
			}
			if _, err := e.store.UpdateClient(ctx, c.ID, func(x *storage.Client) error { tc.change(x); return nil }); err != nil {
				t.Fatal(err)
			}
			_, err = e.refresh(f.cfg, next.RefreshToken)
			switch {
			case tc.fits && err != nil:
				t.Errorf("refresh after a change the grant still fits: %v", err)
			case !tc.fits && errorCode(err) != "invalid_grant":
				t.Errorf("refresh after the client's policy changed: %v, want invalid_grant", err)
			}
		})
	}
}
