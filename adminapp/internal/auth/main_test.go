package auth

import (
	"fmt"
	"os"
	"testing"

	"github.com/cliniconnects/identity/adminapp/internal/idptest"
)

// idp is the real provider the tests sign in to (SQLite, subprocess).
var idp *idptest.Server

const (
	adminEmail    = "sam.super@example.test"
	adminPassword = "lantern-orchard-quietly-47"
	plainEmail    = "pat.plain@example.test" // an employee without a role
	plainPassword = "saffron-meadow-glacier-83"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "adminapp-auth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := idptest.BuildIdP(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	idp, err = idptest.Start(bin, idptest.Options{Users: []idptest.User{
		{Email: adminEmail, Password: adminPassword, GivenName: "Sam", FamilyName: "Super", Roles: []string{"super_admin"}},
		{Email: plainEmail, Password: plainPassword, GivenName: "Pat", FamilyName: "Plain"},
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer idp.Stop()
	return m.Run()
}
