package password

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withBound installs b for the test and restores the previous bound after.
// Tests that change the bound do not run in parallel.
func withBound(t *testing.T, b Bound) {
	t.Helper()
	old := SetBound(b)
	t.Cleanup(func() { SetBound(old) })
}

// holdSlots takes every slot of the bound in force until the test ends or
// free is called.
func holdSlots(t *testing.T) (free func()) {
	t.Helper()
	free = Exhaust()
	t.Cleanup(free)
	return free
}

// TestHashingBound: with every slot busy and no room to wait, each way of
// running argon2id — Hash, Verify, DummyVerify, VerifySecret on an
// argon2id hash — answers ErrBusy at once and computes nothing, so no
// caller can bypass the bound; a generated secret's SHA-256 check needs no
// slot.
func TestHashingBound(t *testing.T) {
	h := cheapHasher()
	phc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	gen := GenerateSecret()
	genHash, err := HashGenerated(gen)
	if err != nil {
		t.Fatal(err)
	}

	withBound(t, Bound{Concurrency: 1, Queue: 0, MaxWait: time.Second})
	free := holdSlots(t)

	start := time.Now()
	if _, err := h.Hash("another secret"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with every slot busy: err = %v, want ErrBusy", err)
	}
	if ok, _, err := h.Verify("correct horse battery staple", phc); !errors.Is(err, ErrBusy) || ok {
		t.Errorf("Verify with every slot busy: %v, %v; want false, ErrBusy", ok, err)
	}
	if err := h.DummyVerify("whatever"); !errors.Is(err, ErrBusy) {
		t.Errorf("DummyVerify with every slot busy: err = %v, want ErrBusy", err)
	}
	if ok, err := h.VerifySecret("correct horse battery staple", phc); !errors.Is(err, ErrBusy) || ok {
		t.Errorf("VerifySecret(argon2id hash) with every slot busy: %v, %v; want false, ErrBusy", ok, err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("refusals took %v; with no queue they must be immediate", d)
	}
	if ok, err := h.VerifySecret(gen, genHash); err != nil || !ok {
		t.Errorf("VerifySecret(generated) with every slot busy: %v, %v; want true, nil (no slot needed)", ok, err)
	}

	free()
	if ok, _, err := h.Verify("correct horse battery staple", phc); err != nil || !ok {
		t.Errorf("Verify once a slot is free: %v, %v; want true, nil", ok, err)
	}
}

// TestHashingBoundQueue: a caller finding every slot busy waits in the
// queue for at most MaxWait; one more than the queue holds is refused at
// once; a slot freed within MaxWait serves the waiter.
func TestHashingBoundQueue(t *testing.T) {
	h := cheapHasher()
	phc, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	const maxWait = 300 * time.Millisecond
	withBound(t, Bound{Concurrency: 1, Queue: 1, MaxWait: maxWait})

	t.Run("waiter times out, overflow refused at once", func(t *testing.T) {
		holdSlots(t)
		waited := make(chan error, 1)
		var took time.Duration
		go func() {
			start := time.Now()
			_, _, err := h.Verify("pw", phc)
			took = time.Since(start)
			waited <- err
		}()
		// Wait until the first caller sits in the queue.
		for deadline := time.Now().Add(time.Second); len(current().queue) == 0; {
			if time.Now().After(deadline) {
				t.Fatal("the first caller never queued")
			}
			runtime.Gosched()
		}
		start := time.Now()
		if _, err := h.Hash("overflow"); !errors.Is(err, ErrBusy) {
			t.Errorf("Hash with the queue full: err = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d > maxWait/2 {
			t.Errorf("refusal with the queue full took %v, want immediate", d)
		}
		if err := <-waited; !errors.Is(err, ErrBusy) {
			t.Errorf("queued Verify: err = %v, want ErrBusy after MaxWait", err)
		}
		if took < maxWait-20*time.Millisecond || took > maxWait+500*time.Millisecond {
			t.Errorf("queued Verify gave up after %v, want about %v", took, maxWait)
		}
	})

	t.Run("waiter served when a slot frees", func(t *testing.T) {
		free := holdSlots(t)
		done := make(chan error, 1)
		go func() {
			ok, _, err := h.Verify("pw", phc)
			if err == nil && !ok {
				err = errors.New("wrong result")
			}
			done <- err
		}()
		time.Sleep(maxWait / 4)
		free()
		if err := <-done; err != nil {
			t.Errorf("queued Verify after a slot freed: %v", err)
		}
	})
}

// TestHashingBoundConcurrency: however many callers hash at once, no more
// than Concurrency run argon2id together; the others wait or get ErrBusy.
func TestHashingBoundConcurrency(t *testing.T) {
	withBound(t, Bound{Concurrency: 1, Queue: 64, MaxWait: 5 * time.Second})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			err := bounded(func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				running.Add(-1)
			})
			if err != nil {
				t.Errorf("bounded: %v", err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 1 {
		t.Fatalf("peak concurrent hashes = %d, want 1", p)
	}
}

func TestSetBoundClamps(t *testing.T) {
	withBound(t, Bound{Concurrency: runtime.NumCPU() + 100, Queue: -1, MaxWait: -time.Second})
	b := CurrentBound()
	if b.Concurrency != runtime.NumCPU() || b.Queue != 0 || b.MaxWait != 0 {
		t.Fatalf("CurrentBound() = %+v, want Concurrency %d, Queue 0, MaxWait 0", b, runtime.NumCPU())
	}
	SetBound(Bound{Concurrency: 0})
	if c := CurrentBound().Concurrency; c != 1 {
		t.Fatalf("Concurrency 0 became %d, want 1", c)
	}
	d := DefaultBound()
	if d.Concurrency < 1 || d.Concurrency > runtime.NumCPU() || d.Queue < 1 || d.MaxWait <= 0 || d.MaxWait > time.Second {
		t.Fatalf("DefaultBound() = %+v: want 1…NumCPU slots, a short queue and a short wait", d)
	}
}

// TestReservation: a reserved slot counts against the bound like a
// running hash; the reservation's own hashing runs in it; Reserve with no
// slot free is ErrBusy; after Release the reservation goes through the
// bound again.
func TestReservation(t *testing.T) {
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
	if _, err := h.Reserve(); !errors.Is(err, ErrBusy) {
		t.Errorf("second Reserve with the slot reserved: %v, want ErrBusy", err)
	}
	if _, _, err := h.Verify("pw", phc); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the slot reserved: %v, want ErrBusy", err)
	}
	if ok, _, err := r.Verify("pw", phc); !ok || err != nil {
		t.Errorf("Reservation.Verify: %v, %v", ok, err)
	}
	if err := r.DummyVerify("pw"); err != nil {
		t.Errorf("Reservation.DummyVerify: %v", err)
	}
	if _, err := r.Hash("new"); err != nil {
		t.Errorf("Reservation.Hash: %v", err)
	}
	r.Release()
	r.Release()
	if ok, _, err := h.Verify("pw", phc); !ok || err != nil {
		t.Errorf("Verify after Release: %v, %v", ok, err)
	}
	free := holdSlots(t)
	if _, _, err := r.Verify("pw", phc); !errors.Is(err, ErrBusy) {
		t.Errorf("released Reservation.Verify with every slot busy: %v, want ErrBusy", err)
	}
	free()
}
