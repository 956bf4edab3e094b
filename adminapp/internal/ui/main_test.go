package ui

import (
	"fmt"
	"os"
	"testing"

	"github.com/cliniconnects/identity/adminapp/internal/idptest"
)

// idp is the real provider every test talks to: `idp serve` on SQLite in
// a temporary directory, built from this repository, with an SMTP server
// and an SMS gateway (a webhook) in this process.
var idp *idptest.Server

// Seeded accounts (idp user add); passwords satisfy the provider's policy.
var (
	superAdmin = idptest.User{Email: "sam.super@example.test", Password: "lantern-orchard-quietly-47",
		GivenName: "Sam", FamilyName: "Super", Roles: []string{"super_admin"}}
	manager = idptest.User{Email: "amy.manager@example.test", Password: "copper-fjord-whistle-19",
		GivenName: "Amy", FamilyName: "Manager", Roles: []string{"assigning_manager"}}
	// doomedAdmin is disabled by TestDisabledAdminIsSentBackToSignIn.
	doomedAdmin = idptest.User{Email: "dana.admin@example.test", Password: "tidal-quarry-meadow-58",
		GivenName: "Dana", FamilyName: "Admin", Roles: []string{"admin"}}
	// seacole's mobile credential is worked by TestClinicianMobilePanel,
	// which disables her at the end.
	seacole = idptest.User{Email: "mary.seacole@example.test", Password: "crimea-british-hotel-1855",
		GivenName: "Mary", FamilyName: "Seacole", Type: "clinician", Phone: "+14155550162"}
	// hedy sets up an authenticator app in TestSecondFactorPanel, which
	// resets it.
	hedy = idptest.User{Email: "hedy.lamarr@example.test", Password: "frequency-hopping-torpedo-1942",
		GivenName: "Hedy", FamilyName: "Lamarr"}
	seeded = []idptest.User{
		{Email: "ada.lovelace@example.test", Password: "analytical-engine-notes-1843", GivenName: "Ada", FamilyName: "Lovelace"},
		{Email: "grace.hopper@example.test", Password: "compiler-cobol-nanosecond-06", GivenName: "Grace", FamilyName: "Hopper"},
		{Email: "alan.turing@example.test", Password: "bombe-enigma-morphogenesis-54", GivenName: "Alan", FamilyName: "Turing"},
		{Email: "florence.n@example.test", Password: "lamp-scutari-statistics-1854", GivenName: "Florence", FamilyName: "Nightingale",
			Type: "clinician", Phone: "+14155550101"},
	}
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "adminapp-ui-test-")
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
	idp, err = idptest.Start(bin, idptest.Options{Users: append([]idptest.User{superAdmin, manager, doomedAdmin, seacole, hedy}, seeded...)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- idp log ---\n%s\n", idp.Log())
	}
	if err := idp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}
