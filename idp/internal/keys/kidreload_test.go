package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// countingStore is the real store, counting the reads of the key list.
type countingStore struct {
	storage.Storage
	lists atomic.Int64
}

func (c *countingStore) ListSigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error) {
	c.lists.Add(1)
	return c.Storage.ListSigningKeys(ctx, now)
}

// Anyone can send a token with a made-up kid. Such tokens must not make
// every request a database query: unknown key ids are looked up again at
// most once per UnknownKIDReload, and a burst of them shares that one read.
func TestUnknownKIDReloadsAtMostOncePerInterval(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		clock := newClock()
		cs := &countingStore{Storage: st}
		m := newManager(cs, clock, testKEK(1))
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		known := publicKIDs(t, m)
		clock.Advance(DefaultUnknownKIDReload) // the cache is old enough for one reload
		cs.lists.Store(0)

		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				if _, err := m.PublicKey(ctx, fmt.Sprintf("made-up-%d", i)); !errors.Is(err, ErrUnknownKey) {
					t.Errorf("made-up kid: %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
		for i := range 50 {
			if _, err := m.PublicKey(ctx, fmt.Sprintf("again-%d", i)); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("made-up kid: %v", err)
			}
		}
		if n := cs.lists.Load(); n > 1 {
			t.Fatalf("100 unknown kids read the key list %d times, want at most 1", n)
		}
		for _, kid := range known {
			if k, err := m.PublicKey(ctx, kid); err != nil || k.KeyID != kid {
				t.Fatalf("known kid %s: %v", kid, err)
			}
		}
		if n := cs.lists.Load(); n > 1 {
			t.Fatalf("known kids read the store (%d reads in all)", n)
		}

		// A key another replica publishes is found once the interval has
		// passed.
		other := newManager(st, clock, testKEK(1))
		if _, err := other.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		var fresh string
		for _, kid := range publicKIDs(t, other) {
			if !slices.Contains(known, kid) {
				fresh = kid
			}
		}
		if fresh == "" {
			t.Fatal("rotation published no new key")
		}
		before := cs.lists.Load()
		if _, err := m.PublicKey(ctx, fresh); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("new kid within the interval: %v, want ErrUnknownKey without a read", err)
		}
		if cs.lists.Load() != before {
			t.Fatal("a read within the interval")
		}
		clock.Advance(DefaultUnknownKIDReload)
		if k, err := m.PublicKey(ctx, fresh); err != nil || k.KeyID != fresh {
			t.Fatalf("new kid after the interval: %v", err)
		}
		if n := cs.lists.Load() - before; n != 1 {
			t.Fatalf("finding the new kid read the store %d times, want 1", n)
		}
	})
}
