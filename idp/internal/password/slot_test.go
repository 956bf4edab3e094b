package password

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/third_party/argon2"
)

// bounded runs fn in a hashing slot, as every hash does, or returns
// ErrBusy.
func bounded(fn func()) error { return inSlot(func(*argon2.Buffer) { fn() }) }

// slotMemory is the memory, in KiB, each of the bound's buffers holds.
// It takes every buffer, so no hash may run meanwhile.
func slotMemory(t *testing.T) []uint32 {
	t.Helper()
	l := current()
	var kib []uint32
	for range l.b.Concurrency {
		b := <-l.bufs
		defer func() { l.bufs <- b }()
		kib = append(kib, b.Memory())
	}
	return kib
}

// allocated is how many bytes the process allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHashingReusesSlotMemory: once each slot has hashed, Hash, Verify,
// DummyVerify and a Reservation's Verify, however many run at once,
// allocate no argon2 memory: all of them together allocate less than one
// hash's Params.Memory, where each used to allocate its own. Each slot
// holds exactly Params.Memory.
func TestHashingReusesSlotMemory(t *testing.T) {
	n := min(2, runtime.NumCPU())
	withBound(t, Bound{Concurrency: n, Queue: 64, MaxWait: 30 * time.Second})
	p := Params{Memory: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := Hasher{}.WithParams(p)
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for range n { // warm up every slot (and DummyVerify's cached hash)
		if err := h.DummyVerify("warm up"); err != nil {
			t.Fatal(err)
		}
	}

	const callers = 4
	var wg sync.WaitGroup
	bytes := allocated(func() {
		for range callers {
			wg.Go(func() {
				if _, err := h.Hash("another secret"); err != nil {
					t.Error(err)
				}
				if ok, _, err := h.Verify("correct horse battery staple", phc); !ok || err != nil {
					t.Errorf("Verify: %v, %v", ok, err)
				}
				if err := h.DummyVerify("whoever"); err != nil {
					t.Error(err)
				}
				r, err := h.Reserve()
				if err != nil {
					t.Error(err)
					return
				}
				defer r.Release()
				if ok, _, err := r.Verify("correct horse battery staple", phc); !ok || err != nil {
					t.Errorf("Reservation.Verify: %v, %v", ok, err)
				}
			})
		}
		wg.Wait()
	})
	t.Logf("%d hashes in %d warm slots allocated %d bytes", 4*callers, n, bytes)
	if limit := uint64(p.Memory) << 10; bytes >= limit {
		t.Errorf("%d hashes with every slot warm allocated %d bytes; want less than one hash's memory (%d): each hash must use its slot's buffer",
			4*callers, bytes, limit)
	}
	for i, kib := range slotMemory(t) {
		if kib != p.Memory {
			t.Errorf("slot %d holds %d KiB, want Params.Memory %d", i, kib, p.Memory)
		}
	}
}

// TestStoredHashCannotGrowSlot: a stored hash with more memory than the
// Hasher's Params verifies (and asks for a rehash) in memory of its own;
// the slot keeps at most the Hasher's Params.Memory.
func TestStoredHashCannotGrowSlot(t *testing.T) {
	withBound(t, Bound{Concurrency: 1, Queue: 1, MaxWait: time.Second})
	h := cheapHasher()
	big := cheap
	big.Memory = 8 * cheap.Memory
	phc, err := Hasher{}.WithParams(big).Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if got := slotMemory(t); got[0] != big.Memory {
		t.Fatalf("slot holds %d KiB after a Hasher with m=%d hashed, want %d", got[0], big.Memory, big.Memory)
	}

	withBound(t, Bound{Concurrency: 1, Queue: 1, MaxWait: time.Second})
	if ok, rehash, err := h.Verify("pw", phc); !ok || !rehash || err != nil {
		t.Fatalf("Verify(m=%d hash) with m=%d: %v, %v, %v; want true, true, nil", big.Memory, cheap.Memory, ok, rehash, err)
	}
	if got := slotMemory(t); got[0] != 0 {
		t.Errorf("slot holds %d KiB after verifying an m=%d hash with an m=%d Hasher, want none", got[0], big.Memory, cheap.Memory)
	}
	if _, err := h.Hash("pw"); err != nil {
		t.Fatal(err)
	}
	if got := slotMemory(t); got[0] != cheap.Memory {
		t.Errorf("slot holds %d KiB after an m=%d hash, want %d", got[0], cheap.Memory, cheap.Memory)
	}
}

// TestSetBoundKeepsReservation: a slot reserved before SetBound keeps
// hashing correctly in the old bound's buffer while the new bound serves
// others.
func TestSetBoundKeepsReservation(t *testing.T) {
	h := cheapHasher()
	phc, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	withBound(t, Bound{Concurrency: 1, Queue: 0})
	r, err := h.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	SetBound(Bound{Concurrency: 1, Queue: 0})
	for range 3 {
		if ok, _, err := r.Verify("pw", phc); !ok || err != nil {
			t.Fatalf("old bound's Reservation.Verify: %v, %v", ok, err)
		}
		if ok, _, err := h.Verify("pw", phc); !ok || err != nil {
			t.Fatalf("Verify in the new bound: %v, %v", ok, err)
		}
	}
}
