package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// The metrics' reads: the outbox backlog (pending messages and the oldest
// one's queue time), the pool's state, and every failed statement told by
// kind, while answers that are not failures (no row, a taken key) are not.
func TestObserve(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := testenv.OpenStore(t, b.DSN(t), nil)
			var mu sync.Mutex
			var kinds []string
			st.ObserveErrors(func(kind string) { mu.Lock(); kinds = append(kinds, kind); mu.Unlock() })
			told := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(kinds) }

			n, oldest, err := st.OutboxBacklog(ctx)
			if err != nil || n != 0 || !oldest.IsZero() {
				t.Fatalf("empty outbox: %d, %v, %v", n, oldest, err)
			}
			first := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
			for i, at := range []time.Time{first.Add(time.Minute), first, first.Add(2 * time.Minute)} {
				id, err := st.EnqueueMessage(ctx, storage.Message{Channel: "email", To: "a@example.com", CreatedAt: at})
				if err != nil {
					t.Fatal(err)
				}
				if i == 2 { // sent: no longer pending
					if err := st.MarkMessageSent(ctx, id, at); err != nil {
						t.Fatal(err)
					}
				}
			}
			n, oldest, err = st.OutboxBacklog(ctx)
			if err != nil || n != 2 || !oldest.Equal(first) {
				t.Fatalf("backlog: %d, %v, %v; want 2, %v", n, oldest, err, first)
			}
			if st.DBStats().MaxOpenConnections < 1 {
				t.Errorf("pool stats: %+v", st.DBStats())
			}

			// Not failures.
			if _, err := st.GetUser(ctx, "no-such-user"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatal(err)
			}
			c := storage.Client{ID: "dup", Name: "Dup", RedirectURIs: []string{"https://x.example/cb"}, Public: true}
			if _, err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateClient(ctx, c); !errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatal(err)
			}
			if k := told(); len(k) != 0 {
				t.Fatalf("told %v for answers that are not failures", k)
			}
			// A failure: the table is gone.
			if err := st.Exec(ctx, `DROP TABLE outbox`); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.OutboxBacklog(ctx); err == nil {
				t.Fatal("backlog of a dropped table")
			}
			if k := told(); !slices.Equal(k, []string{sqlstore.ErrorOther}) {
				t.Fatalf("told %v, want [other]", k)
			}
		})
	}
}
