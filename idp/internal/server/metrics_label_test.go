package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
)

// The provider's paths are named without a second routing only where the
// mux sends them to the provider: a pattern of its own for one of them,
// for any method, still names that request by its pattern.
func TestEndpointLabel(t *testing.T) {
	mux := http.NewServeMux()
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux.Handle("/", nop)
	mux.Handle("GET /login", nop)
	mux.Handle("POST "+oidcprovider.PathKeys, nop) // claims one method of a provider path
	mux.Handle(oidcprovider.PathUserinfo+"/", nop) // /userinfo redirects to /userinfo/
	label := endpointOf(mux, nil)                  // no admin API mounted
	for _, tc := range []struct{ method, path, want string }{
		{"GET", oidcprovider.PathDiscovery, "discovery"},
		{"HEAD", oidcprovider.PathDiscovery, "discovery"},
		{"GET", oidcprovider.PathToken, "token"},
		{"GET", oidcprovider.PathKeys, "jwks"},
		{"POST", oidcprovider.PathKeys, "POST " + oidcprovider.PathKeys},
		{"GET", oidcprovider.PathUserinfo, oidcprovider.PathUserinfo + "/"},
		{"GET", "/login", "GET /login"},
		{"GET", "/no-such-page", "other"},
	} {
		if got := label(httptest.NewRequest(tc.method, tc.path, nil)); got != tc.want {
			t.Errorf("%s %s: endpoint %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
