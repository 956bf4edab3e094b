package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// open opens another migrated handle on the database at dsn (a replica).
func open(t *testing.T, dsn string) storage.Storage { return testenv.OpenStore(t, dsn, nil) }

func newClock() *testenv.Clock { return testenv.NewClock(time.Now().UTC().Truncate(time.Second)) }
func testKEK(b byte) []byte    { return bytes.Repeat([]byte{b}, KEKSize) }

func newManager(st storage.Storage, c *testenv.Clock, kek []byte) *Manager {
	return &Manager{Store: st, KEK: kek, Rotation: 24 * time.Hour, Lifetime: time.Hour, Now: c.Now, Bits: 2048}
}

func publicKIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	pub, err := m.Public(context.Background())
	if err != nil {
		t.Fatalf("Public: %v", err)
	}
	var out []string
	for _, k := range pub {
		out = append(out, k.KeyID)
	}
	return out
}

func signingKID(t *testing.T, m *Manager) string {
	t.Helper()
	k, priv, err := m.Signing(context.Background())
	if err != nil {
		t.Fatalf("Signing: %v", err)
	}
	if priv == nil || len(k.PrivateKey) != 0 {
		t.Fatalf("Signing must return the parsed private key and no sealed bytes")
	}
	return k.ID
}

func TestManager(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("ensure publishes current and next", func(t *testing.T) { testEnsure(t, open(t, b.DSN(t))) })
			t.Run("scheduled rotation", func(t *testing.T) { testScheduled(t, open(t, b.DSN(t))) })
			t.Run("manual rotation", func(t *testing.T) { testRotate(t, open(t, b.DSN(t))) })
			t.Run("no private parameters in JWKS", func(t *testing.T) { testNoPrivate(t, open(t, b.DSN(t))) })
			t.Run("wrong KEK fails cleanly", func(t *testing.T) { testWrongKEK(t, open(t, b.DSN(t))) })
		})
	}
}

func testEnsure(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	c := newClock()
	m := newManager(st, c, testKEK(1))
	for range 3 {
		if err := m.Ensure(ctx); err != nil {
			t.Fatalf("Ensure: %v", err)
		}
	}
	stored, err := st.ListSigningKeys(ctx, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("after 3× Ensure: %d keys stored, want 2 (current, next)", len(stored))
	}
	cur := signingKID(t, m)
	pub := publicKIDs(t, m)
	if len(pub) != 2 || !slices.Contains(pub, cur) {
		t.Fatalf("JWKS %v must hold the signing key %s and the next key", pub, cur)
	}
	for _, k := range stored {
		if k.ID != cur && !k.ActivateAt.After(c.Now()) {
			t.Fatalf("next key %s activates at %v, not in the future", k.ID, k.ActivateAt)
		}
		if bytes.Contains(k.PrivateKey, []byte("PRIVATE")) || len(k.PrivateKey) < 100 {
			t.Fatalf("stored private key looks unencrypted or empty")
		}
	}
}

func testScheduled(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	c := newClock()
	m := newManager(st, c, testKEK(1))
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first := signingKID(t, m)
	pub := publicKIDs(t, m)
	var nextKID string
	for _, k := range pub {
		if k != first {
			nextKID = k
		}
	}
	// The next key is in the JWKS before it signs…
	if nextKID == "" || signingKID(t, m) == nextKID {
		t.Fatalf("next key must be published and not yet signing: %v", pub)
	}
	// …and takes over at its activation time without any store write.
	c.Advance(m.Rotation + time.Minute)
	if got := signingKID(t, m); got != nextKID {
		t.Fatalf("after one period signing with %s, want next key %s", got, nextKID)
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	pub = publicKIDs(t, m)
	if len(pub) != 3 || !slices.Contains(pub, first) {
		t.Fatalf("JWKS after rotation %v: want previous, current and a new next key", pub)
	}
	// The previous key leaves once its tokens have expired.
	c.Advance(m.Grace() + time.Minute)
	m.Invalidate()
	if pub = publicKIDs(t, m); slices.Contains(pub, first) {
		t.Fatalf("previous key %s still published after its grace: %v", first, pub)
	}
}

func testRotate(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	c := newClock()
	m := newManager(st, c, testKEK(1))
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	old := signingKID(t, m)
	before := publicKIDs(t, m)
	got, err := m.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got == old || !slices.Contains(before, got) {
		t.Fatalf("Rotate activated %s; want the previously published next key (JWKS was %v)", got, before)
	}
	if s := signingKID(t, m); s != got {
		t.Fatalf("signing with %s after Rotate returned %s", s, got)
	}
	after := publicKIDs(t, m)
	if len(after) != 3 || !slices.Contains(after, old) {
		t.Fatalf("JWKS after Rotate %v: want old, current and a new next key", after)
	}
	stored, _ := st.ListSigningKeys(ctx, c.Now())
	for _, k := range stored {
		if k.ID == old {
			if want := c.Now().Add(m.Grace()); !k.ExpireAt.Equal(want) {
				t.Fatalf("old key expires %v, want now+grace %v", k.ExpireAt, want)
			}
		}
	}
	// A second replica on the same store agrees at once.
	m2 := newManager(st, c, testKEK(1))
	if s := signingKID(t, m2); s != got {
		t.Fatalf("second manager signs with %s, want %s", s, got)
	}
	// Rotate again: still converges, still three or four keys published.
	got2, err := m.Rotate(ctx)
	if err != nil || got2 == got {
		t.Fatalf("second Rotate: %s, %v", got2, err)
	}
	// When the original activation time of the rotated-in key arrives,
	// nothing flips back.
	c.Advance(m.Rotation + time.Minute)
	if s := signingKID(t, m); s == old || s == got {
		t.Fatalf("after a period signing with retired key %s", s)
	}
}

func testNoPrivate(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	c := newClock()
	m := newManager(st, c, testKEK(1))
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := m.Public(ctx)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(map[string]any{"keys": pub})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Keys []map[string]any }
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range doc.Keys {
		for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[p]; ok {
				t.Fatalf("JWK %v carries private parameter %q", k["kid"], p)
			}
		}
		kid, _ := k["kid"].(string)
		if kid == "" || seen[kid] {
			t.Fatalf("missing or duplicate kid %q", kid)
		}
		seen[kid] = true
		if k["alg"] != "RS256" || k["use"] != "sig" || k["kty"] != "RSA" {
			t.Fatalf("JWK %v: want kty RSA, alg RS256, use sig", k)
		}
	}
}

func testWrongKEK(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	c := newClock()
	if err := newManager(st, c, testKEK(1)).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	wrong := newManager(st, c, testKEK(9))
	err := wrong.Ensure(ctx)
	if !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("Ensure with the wrong KEK: %v, want ErrWrongKEK", err)
	}
	if _, _, err := wrong.Signing(ctx); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("Signing with the wrong KEK: %v, want ErrWrongKEK", err)
	}
	if pub := publicKIDs(t, wrong); len(pub) != 2 {
		t.Fatalf("public keys must still be listed: %v", pub)
	}
}

// Two replicas on one PostgreSQL database start at once and must agree on
// the signing key, without creating more than current + next.
func TestManagersConverge(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	c := newClock()
	ms := []*Manager{newManager(open(t, dsn), c, testKEK(1)), newManager(open(t, dsn), c, testKEK(1))}
	var wg sync.WaitGroup
	errs := make([]error, len(ms))
	for i, m := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.Ensure(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Ensure: %v", err)
		}
	}
	for _, m := range ms {
		m.Invalidate()
	}
	a, b := signingKID(t, ms[0]), signingKID(t, ms[1])
	if a != b {
		t.Fatalf("replicas disagree: %s vs %s", a, b)
	}
	stored, err := ms[0].Store.ListSigningKeys(ctx, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("%d keys after concurrent Ensure, want 2", len(stored))
	}
	// After a period both switch to the same next key, again without
	// talking to each other.
	c.Advance(25 * time.Hour)
	for _, m := range ms {
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := signingKID(t, ms[0]), signingKID(t, ms[1]); a != b {
		t.Fatalf("replicas disagree after a period: %s vs %s", a, b)
	}
}
