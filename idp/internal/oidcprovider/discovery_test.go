package oidcprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// Discovery and the JWKS are served from bytes kept between requests; what
// they serve is what op's own handlers (behind the provider's router) make
// on each request — the discovery document with our corrections, KeySet
// encoded by op.Keys — with the same headers, on both backends, and after
// a key rotation the JWKS served is the new one at once.
func TestDiscoveryAndJWKSServedAsOpMakesThem(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := testenv.OpenStore(t, b.dsn(t), nil)
			kek := bytes.Repeat([]byte{4}, 32)
			clock := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
			m := func(alg string) *keys.Manager {
				return &keys.Manager{Store: st, Algorithm: alg, KEK: kek, Rotation: time.Hour, Lifetime: time.Minute, Now: clock.Now}
			}
			ks := &keys.Set{ID: m(keys.RS256), Access: m(keys.ES256)}
			if err := ks.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			const issuer = "http://127.0.0.1:1"
			p, err := New(Config{
				Issuer: issuer, Store: st, Hasher: cheap, KEK: kek, Keys: ks, Now: clock.Now,
				AccessTokenTTL: time.Minute, IDTokenTTL: time.Minute, RefreshTokenTTL: time.Hour,
			})
			if err != nil {
				t.Fatal(err)
			}
			get := func(h http.Handler, path string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, issuer+path, nil)
				req.Header.Set("Origin", "https://app.example")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
				}
				return w
			}
			// same compares our answer with op's: headers, and the bodies
			// parsed (key order and spacing aside).
			same := func(path string, ours, ops *httptest.ResponseRecorder, opBody []byte) any {
				t.Helper()
				for _, h := range []string{"Content-Type", "Cache-Control", "Access-Control-Allow-Origin", "Vary"} {
					if got, want := ours.Header().Values(h), ops.Header().Values(h); !reflect.DeepEqual(got, want) {
						t.Errorf("GET %s: %s %q, op's %q", path, h, got, want)
					}
				}
				var got, want any
				if err := json.Unmarshal(ours.Body.Bytes(), &got); err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				if err := json.Unmarshal(opBody, &want); err != nil {
					t.Fatalf("GET %s (op): %v", path, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("GET %s:\n%s\nop's:\n%s", path, ours.Body, opBody)
				}
				return got
			}

			// Discovery: op's document for this request, corrected.
			for range 2 {
				ops := get(p.op, PathDiscovery)
				var d oidc.DiscoveryConfiguration
				if err := json.Unmarshal(ops.Body.Bytes(), &d); err != nil {
					t.Fatal(err)
				}
				corrected, err := json.Marshal(correctDiscovery(&d))
				if err != nil {
					t.Fatal(err)
				}
				doc := same(PathDiscovery, get(p, PathDiscovery), ops, corrected).(map[string]any)
				if doc["issuer"] != issuer || doc["jwks_uri"] != issuer+PathKeys || doc["token_endpoint"] != issuer+PathToken {
					t.Fatalf("discovery names issuer %v, jwks_uri %v, token_endpoint %v", doc["issuer"], doc["jwks_uri"], doc["token_endpoint"])
				}
			}

			// jwks checks our JWKS against op.Keys's and returns its kids.
			jwks := func() []string {
				t.Helper()
				ours, ops := get(p, PathKeys), get(p.op, PathKeys)
				same(PathKeys, ours, ops, ops.Body.Bytes())
				if !bytes.Equal(ours.Body.Bytes(), ops.Body.Bytes()) {
					t.Fatalf("JWKS bytes differ from op.Keys's:\n%s\n%s", ours.Body, ops.Body)
				}
				if ours.Header().Get("Access-Control-Allow-Origin") != "*" {
					t.Fatalf("JWKS headers %v lack CORS", ours.Header())
				}
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(ops.Body.Bytes(), &set); err != nil {
					t.Fatal(err)
				}
				var kids []string
				for _, k := range set.Keys {
					kids = append(kids, k.KeyID)
				}
				return kids
			}
			before := jwks()
			if len(before) != 4 {
				t.Fatalf("JWKS kids %v, want the current and next RS256 and ES256 keys", before)
			}
			jwks() // from the kept bytes
			clock.Advance(time.Minute)
			idKID, accessKID, err := ks.Rotate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			after := jwks()
			if len(after) != 6 || reflect.DeepEqual(after, before) {
				t.Fatalf("JWKS kids after a rotation to %s and %s: %v, before %v", idKID, accessKID, after, before)
			}
		})
	}
}
