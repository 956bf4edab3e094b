package login_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// A phone client's request never signs in with email and password, even
// where the phone pages are not mounted: those say phone sign-in is not
// available, and a posted password is refused without being checked.
func TestPhoneClientWithoutPhonePages(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		e := newEnv(t, st)
		app, err := st.CreateClient(context.Background(), storage.Client{
			ID: "mobile", Name: "Mobile", Public: true, RedirectURIs: []string{"https://mobile.example/cb"},
			GrantTypes: []string{storage.GrantAuthorizationCode}, AdmitTypes: []storage.UserType{storage.UserTypeClinician},
			SignInMethod: storage.SignInPhone,
		})
		if err != nil {
			t.Fatal(err)
		}
		r := e.authRequest(app)
		if res := e.getLogin(r.ID); res.status != http.StatusServiceUnavailable || strings.Contains(res.body, `name="password"`) {
			t.Fatalf("GET /login for a phone client without the phone pages: %d\n%s", res.status, res.body)
		}
		res := e.postLogin(r.ID, userEmail, userPassword)
		if res.status != http.StatusBadRequest || e.callbackCount() != 0 {
			t.Fatalf("POST /login for a phone client: %d, %d callbacks\n%s", res.status, e.callbackCount(), res.body)
		}
		if e.loadRequest(r.ID).Done || e.sessionCookie() != "" {
			t.Fatal("email and password posted for a phone client signed in")
		}
	})
}
