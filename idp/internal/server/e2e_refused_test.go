package server_test

import (
	"context"
	"crypto"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestDisabledUserTokens: a user disabled in the store — with none of
// their grants revoked, as a disable that skipped or lost the revocation
// would leave them — can no longer refresh, and their still-unexpired
// access token is refused at userinfo and inactive at introspection. The
// user's status is checked at every use, not only when revoking.
func TestDisabledUserTokens(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			f, tok, _ := e.login(t, c, u)
			// Everything works while the user is active: the refusals
			// below are for the status alone.
			tok, err := e.refresh(f.cfg, tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh while active: %v", err)
			}
			if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK {
				t.Fatalf("userinfo while active: %d", resp.StatusCode)
			}
			if !e.introspect(t, c, tok.AccessToken) {
				t.Fatal("access token inactive while the user is active")
			}

			if _, err := e.store.UpdateUser(context.Background(), u.ID, 0, func(x *storage.User) error {
				x.Status = storage.StatusDisabled
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if resp, body := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("userinfo of a disabled user: %d %v", resp.StatusCode, body)
			}
			if e.introspect(t, c, tok.AccessToken) {
				t.Error("access token of a disabled user introspects active")
			}
			if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
				t.Errorf("refresh of a disabled user: %v, want invalid_grant", err)
			}
		})
	}
}

// TestForgedAccessTokens: at userinfo and introspection, an access token
// with a genuine user's genuine, recorded claims is refused when the
// provider did not sign it as it stands (see testenv.Forgeries).
func TestForgedAccessTokens(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			_, tok, _ := e.login(t, c, u)
			if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK {
				t.Fatalf("userinfo with the genuine token: %d", resp.StatusCode)
			}
			if !e.introspect(t, c, tok.AccessToken) {
				t.Fatal("the genuine token introspects inactive")
			}
			for _, forged := range testenv.Forgeries(t, tok.AccessToken, e.signingKey(t, tok.AccessToken)) {
				t.Run(forged.Name, func(t *testing.T) {
					resp, body := e.userinfo(t, http.MethodGet, forged.Token)
					if resp.StatusCode != http.StatusUnauthorized || body["sub"] != nil {
						t.Errorf("userinfo: %d %v", resp.StatusCode, body)
					}
					if e.introspect(t, c, forged.Token) {
						t.Error("introspects active")
					}
				})
			}
			if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK {
				t.Fatalf("userinfo with the genuine token after the forgeries: %d", resp.StatusCode)
			}
		})
	}
}

// signingKey is the published key (GET /keys) that signed the JWT raw.
func (e *env) signingKey(t *testing.T, raw string) crypto.PublicKey {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("not an RS256 or ES256 JWS: %v", err)
	}
	resp, err := http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Header.KeyID
	for _, k := range set.Key(kid) {
		if k.Algorithm == jws.Signatures[0].Header.Algorithm && k.Use == "sig" {
			return k.Key
		}
	}
	t.Fatalf("key %q not in the JWKS: %s", kid, strings.Join(keyIDs(set), ", "))
	return nil
}

func keyIDs(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}
