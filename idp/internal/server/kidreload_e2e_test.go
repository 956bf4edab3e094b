package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// keyCountingStore is the real store, counting reads of the signing keys.
type keyCountingStore struct {
	storage.Storage
	lists atomic.Int64
}

func (c *keyCountingStore) ListSigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error) {
	c.lists.Add(1)
	return c.Storage.ListSigningKeys(ctx, now)
}

// Bearer tokens naming key ids the provider never published, sent in
// parallel to the admin API and to userinfo (op's access token check,
// which uses our KeySet), are refused without a store read each: at most
// one for the whole burst.
func TestUnknownKIDsDoNotReloadKeysPerRequest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			cs := &keyCountingStore{Storage: e.store}
			e.sw.set(e.instance(cs))
			u := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)

			forger, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			forge := func(kid string) string {
				sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: forger, KeyID: kid}},
					(&jose.SignerOptions{}).WithType("JWT"))
				if err != nil {
					t.Error(err)
					return ""
				}
				claims, _ := json.Marshal(map[string]any{
					"iss": e.issuer, "sub": u.ID, "aud": []string{api.DesktopClientID, api.Audience(e.issuer)},
					"exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix(), "jti": randHex(16),
					"client_id": api.DesktopClientID, "scope": "openid " + api.Scope,
				})
				jws, err := sig.Sign(claims)
				if err != nil {
					t.Error(err)
					return ""
				}
				raw, _ := jws.CompactSerialize()
				return raw
			}
			call := func(path, token string) int {
				req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			// Warm the instance's key cache, then count.
			call("/userinfo", forge("warm-up"))
			cs.lists.Store(0)

			var wg sync.WaitGroup
			for i := range 40 {
				wg.Go(func() {
					for _, path := range []string{api.BasePath + "/me", "/userinfo"} {
						if code := call(path, forge(fmt.Sprintf("made-up-%d", i))); code != http.StatusUnauthorized {
							t.Errorf("GET %s with a made-up kid: %d, want 401", path, code)
						}
					}
				})
			}
			wg.Wait()
			if n := cs.lists.Load(); n > 1 {
				t.Fatalf("80 requests with made-up kids read the signing keys %d times, want at most 1", n)
			}
		})
	}
}
