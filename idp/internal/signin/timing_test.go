package signin_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// An unknown email costs about as much as a wrong password: both run one
// argon2id verification with the production parameters (without it, the
// unknown email would answer some 30 times faster). The fastest of several
// runs is compared, which a busy machine disturbs far less than a mean, and
// the bound is a factor of three either way. It runs under -short too: it
// takes about a second and guards against user enumeration.
func TestUnknownEmailTakesAsLongAsWrongPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.Hasher = password.NewHasher()
		f.svc.LockAfter, f.svc.SourceLimit = 1000, 1000
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		f.auth("nobody@example.com", "warm-up") // computes the dummy hash once
		var known, unknown []time.Duration
		for range 7 {
			start := time.Now()
			f.auth("grace@example.com", "wrong")
			known = append(known, time.Since(start))
			start = time.Now()
			f.auth("nobody@example.com", "wrong")
			unknown = append(unknown, time.Since(start))
		}
		k, u := slices.Min(known), slices.Min(unknown)
		t.Logf("fastest: wrong password %v, unknown email %v", k, u)
		if u < k/3 || u > 3*k {
			t.Errorf("fastest answer: wrong password %v, unknown email %v; want within a factor of 3", k, u)
		}
	})
}
