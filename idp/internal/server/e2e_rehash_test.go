package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestRehashOnSignIn: a password hashed with parameters older than the
// server's is rehashed by a browser sign-in, through account (the one
// writer of users): the new hash has the current parameters and still
// verifies the same password, and the sign-in ended nothing else.
func TestRehashOnSignIn(t *testing.T) {
	e := newEnv(t, backends[0])
	u := e.createUser(t, storage.UserTypeEmployee)
	older := cheapHasher.Params
	older.Memory = cheapHasher.Params.Memory / 2
	h, err := password.Hasher{}.WithParams(older).Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	if u, err = e.store.UpdateUser(context.Background(), u.ID, 0, func(x *storage.User) error {
		x.PasswordHash = h
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := e.createClient(t)
	if _, tok, _ := e.login(t, c, u); tok.AccessToken == "" {
		t.Fatal("no token")
	}
	got, err := e.store.GetUser(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash == h || !strings.Contains(got.PasswordHash, "m=64,") {
		t.Fatalf("hash after sign-in %q, want one with the server's parameters (m=64)", got.PasswordHash)
	}
	if ok, stale, err := cheapHasher.Verify(userPassword, got.PasswordHash); !ok || stale || err != nil {
		t.Errorf("rehashed hash: ok=%v stale=%v err=%v", ok, stale, err)
	}
}
