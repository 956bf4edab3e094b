package session_test

import (
	"context"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

var eachStore = testenv.EachStore

func createUser(t *testing.T, st storage.Storage, email string) storage.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Ada", FamilyName: "Lovelace",
		Email: email, EmailVerified: true, Status: storage.StatusActive,
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}
