package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// The JWKS document is kept between requests, but it is always what Public
// says at that moment: after a rotation through the same Set (the
// maintenance loop), after one by another process (`idp keys rotate`,
// another replica) once the key list is read again, and after a retired
// key expires between two reads of the list.
func TestJWKSFollowsThePublishedKeys(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		c := newClock()
		s := newSet(st, c)
		if err := s.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		// check asserts that JWKS is Public encoded, and returns its kids.
		check := func(step string) []string {
			t.Helper()
			got, err := s.JWKS(ctx)
			if err != nil {
				t.Fatalf("%s: JWKS: %v", step, err)
			}
			pub, err := s.Public(ctx)
			if err != nil {
				t.Fatalf("%s: Public: %v", step, err)
			}
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(jose.JSONWebKeySet{Keys: pub}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%s: JWKS\n%s\nwant (Public)\n%s", step, got, want.Bytes())
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(got, &set); err != nil {
				t.Fatalf("%s: JWKS does not parse: %v", step, err)
			}
			var kids []string
			for _, k := range set.Keys {
				if !k.IsPublic() || k.Use != "sig" || k.Algorithm == "" {
					t.Fatalf("%s: key %s: public %v, use %q, alg %q", step, k.KeyID, k.IsPublic(), k.Use, k.Algorithm)
				}
				kids = append(kids, k.KeyID)
			}
			return kids
		}
		first := check("after Ensure")
		if len(first) != 4 {
			t.Fatalf("JWKS kids %v, want current and next of RS256 and ES256", first)
		}
		if again := check("again"); !slices.Equal(again, first) {
			t.Fatalf("JWKS changed without a change of keys: %v, then %v", first, again)
		}

		// Rotation through this Set: the new next keys are published at once.
		c.Advance(time.Minute)
		idKID, accessKID, err := s.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rotated := check("after Rotate")
		if len(rotated) != 6 || !slices.Contains(rotated, idKID) || !slices.Contains(rotated, accessKID) {
			t.Fatalf("JWKS after Rotate: %v, want the retired, current and next keys of each", rotated)
		}

		// Rotation by another process: Public and JWKS show it once the
		// key list is read again (CacheTTL), not before, and both alike.
		c.Advance(DefaultCacheTTL / 2)
		if _, _, err := newSet(st, c).Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if kids := check("after another process's Rotate, before a reload"); !slices.Equal(kids, rotated) {
			t.Fatalf("JWKS before the key list is read again: %v, want %v as before", kids, rotated)
		}
		c.Advance(DefaultCacheTTL / 2)
		elsewhere := check("after another process's Rotate and a reload")
		if len(elsewhere) <= len(rotated) {
			t.Fatalf("JWKS after another process's rotation: %v, want more keys than %v", elsewhere, rotated)
		}

		// The keys retired by the first rotation leave the JWKS when they
		// expire, even when the list was read just before.
		stored, err := st.ListSigningKeys(ctx, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		var expiry time.Time
		for _, k := range stored {
			if k.ID == first[0] {
				expiry = k.ExpireAt
			}
		}
		if expiry.IsZero() {
			t.Fatalf("key %s: no expiry after two rotations", first[0])
		}
		c.Advance(expiry.Sub(c.Now()) - DefaultCacheTTL/2)
		s.ID.Invalidate()
		s.Access.Invalidate()
		before := check("just before the first retired keys expire")
		c.Advance(DefaultCacheTTL / 4 * 3) // the list read above is still fresh
		after := check("after they expired, without a reload")
		if len(after) >= len(before) || slices.Contains(after, first[0]) {
			t.Fatalf("JWKS after the retired keys expired: %v, was %v", after, before)
		}
	})
}
