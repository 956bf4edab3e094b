package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

func newSet(st storage.Storage, c *testenv.Clock) *Set {
	m := func(alg string) *Manager {
		return &Manager{Store: st, Algorithm: alg, KEK: testKEK(1), Rotation: 24 * time.Hour, Lifetime: time.Hour, Now: c.Now}
	}
	return &Set{ID: m(RS256), Access: m(ES256)}
}

// sign makes a JWT with m's current key, issued at iat.
func sign(t *testing.T, m *Manager, iat time.Time) string {
	t.Helper()
	meta, priv, err := m.Signing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(meta.Algorithm), Key: jose.JSONWebKey{Key: priv, KeyID: meta.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"sub": "u1", "jti": "j1", "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

func verify(s *Set, raw string) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return ErrBadSignature
	}
	_, err = s.VerifyAccessToken(context.Background(), jws)
	return err
}

// TestSet: ID tokens RS256 (2048-bit by default), access tokens ES256 with
// keys of their own, both published with their alg; an access token
// verifies only with an access token key, or with an ID token key when it
// was issued before access tokens had keys of their own.
func TestSet(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t, b.DSN(t))
			c := newClock()
			s := newSet(st, c)
			// An upgrade: the ID token key exists first and signs an access
			// token, as every release before this one did.
			if err := s.ID.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			old := sign(t, s.ID, c.Now())
			c.Advance(2 * time.Minute)
			if err := s.Ensure(ctx); err != nil {
				t.Fatal(err)
			}

			_, idPriv, _ := s.ID.Signing(ctx)
			if k, ok := idPriv.(*rsa.PrivateKey); !ok || k.N.BitLen() != DefaultBits || DefaultBits != 2048 {
				t.Errorf("ID token key %T, want RSA-2048", idPriv)
			}
			_, atPriv, _ := s.Access.Signing(ctx)
			if _, ok := atPriv.(*ecdsa.PrivateKey); !ok {
				t.Errorf("access token key %T, want P-256", atPriv)
			}
			pub, err := s.Public(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, k := range pub {
				_, ec := k.Key.(*ecdsa.PublicKey)
				got[k.Algorithm+" "+k.Use]++
				if (k.Algorithm == ES256) != ec || !strings.HasPrefix(k.KeyID, strings.ToLower(k.Algorithm)+"-") {
					t.Errorf("key %s: alg %s, %T", k.KeyID, k.Algorithm, k.Key)
				}
			}
			if got["RS256 sig"] != 2 || got["ES256 sig"] != 2 || len(pub) != 4 {
				t.Errorf("JWKS by alg: %v, want current and next of each", got)
			}

			if err := verify(s, sign(t, s.Access, c.Now())); err != nil {
				t.Errorf("an access token: %v", err)
			}
			if err := verify(s, old); err != nil {
				t.Errorf("an access token signed by the ID token key before the upgrade: %v", err)
			}
			// What the ID token key signs now is an ID token, never an
			// access token, whatever its claims.
			if err := verify(s, sign(t, s.ID, c.Now())); !errors.Is(err, ErrBadSignature) {
				t.Errorf("a token the ID token key signed now: %v, want ErrBadSignature", err)
			}
		})
	}
}

// The verified-signature cache remembers a token exactly as it stands:
// the same header and payload under another signature are checked afresh,
// and a token whose key left the JWKS no longer verifies.
func TestVerifiedCache(t *testing.T) {
	ctx := context.Background()
	st := open(t, testenv.SQLitePath(t))
	c := newClock()
	s := newSet(st, c)
	if err := s.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	genuine := sign(t, s.Access, c.Now())
	for range 2 { // the second time from the cache
		if err := verify(s, genuine); err != nil {
			t.Fatalf("genuine: %v", err)
		}
	}
	parts := strings.Split(genuine, ".")
	other := sign(t, s.Access, c.Now()) // same claims, another (random) ES256 signature
	for _, forged := range []string{
		parts[0] + "." + parts[1] + "." + strings.Split(other, ".")[2][:10] + parts[2][10:],
		parts[0] + "." + parts[1] + ".",
	} {
		if err := verify(s, forged); !errors.Is(err, ErrBadSignature) {
			t.Errorf("genuine header and payload under another signature: %v, want ErrBadSignature", err)
		}
	}
	// Rotate twice and let the first key's grace pass: it leaves the
	// JWKS, and the token it signed stops verifying, cached or not.
	if _, _, err := s.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	c.Advance(s.Access.Grace() + time.Second)
	s.Access.Invalidate()
	if err := verify(s, genuine); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a cached token after its key left the JWKS: %v, want ErrUnknownKey", err)
	}
}
