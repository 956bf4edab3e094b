package password

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/cliniconnects/identity/idp/third_party/argon2"
)

// ErrBusy is returned by Hash, Verify, VerifySecret and DummyVerify when
// the process-wide hashing bound is exhausted: every hashing slot is busy,
// and either the queue of waiters is full or the wait ran past the
// bound's MaxWait. Callers answer it with 503 and a Retry-After of
// RetryAfter; nothing was checked, so it must never count as a wrong
// secret.
var ErrBusy = errors.New("password: hashing capacity exhausted; try again shortly")

// RetryAfter is what callers put in the Retry-After header of the 503 they
// answer ErrBusy with.
const RetryAfter = time.Second

// Bound limits how much argon2id work the process does at once. Each
// running hash holds Params.Memory of memory (19 MiB with DefaultParams)
// and one CPU, so Concurrency bounds both; waiting callers hold neither.
//
// The memory is the slot's, not the hash's: each slot owns one argon2
// buffer, allocated by the slot's first hash, grown to the largest
// Params.Memory of the Hashers that used it and kept for the life of the
// bound (SetBound). A hash in a slot allocates no blocks, so sign-in load
// no longer drives a garbage collection per hash; in exchange every slot
// that has hashed keeps its Params.Memory resident (one slot on a 2-CPU
// machine: 19 MiB) where before the heap held it only while a hash ran. A
// stored hash with more memory than its Hasher's Params is checked in
// memory allocated for that one call, so it cannot grow a slot.
type Bound struct {
	// Concurrency is how many hashes run at once, 1…runtime.NumCPU().
	Concurrency int
	// Queue is how many callers may wait for a slot; one more gets ErrBusy
	// at once. 0 means none wait.
	Queue int
	// MaxWait is how long a queued caller waits for a slot before it gets
	// ErrBusy.
	MaxWait time.Duration
}

// DefaultBound is the bound every process starts with: one hash for every
// two CPUs (of NumCPU and GOMAXPROCS, the fewer), at least one, so that
// however hard the hashing is pushed the other half of the CPUs is left
// to everything else (discovery, token, userinfo answer in milliseconds
// during a flood); 32 waiters per slot, about what one slot serves in the
// one second a waiter may wait. Waiters hold no hashing memory, only their
// request.
func DefaultBound() Bound {
	n := max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0))/2)
	return Bound{Concurrency: n, Queue: 32 * n, MaxWait: time.Second}
}

// limiter is the bound in force: slots holds a token per running hash,
// queue one per waiting caller, bufs the slots' argon2 buffers.
type limiter struct {
	b     Bound
	slots chan struct{}
	queue chan struct{}
	// bufs holds Concurrency buffers, empty until a hash grows them. A
	// hash takes one only while it holds a slot, so one is always there.
	bufs chan *argon2.Buffer
}

func newLimiter(b Bound) *limiter {
	b.Concurrency = max(1, min(b.Concurrency, runtime.NumCPU()))
	b.Queue = max(0, b.Queue)
	b.MaxWait = max(0, b.MaxWait)
	l := &limiter{b: b, slots: make(chan struct{}, b.Concurrency), queue: make(chan struct{}, b.Queue),
		bufs: make(chan *argon2.Buffer, b.Concurrency)}
	for range b.Concurrency {
		l.bufs <- new(argon2.Buffer)
	}
	return l
}

var (
	limMu sync.RWMutex
	lim   = newLimiter(DefaultBound())
)

// SetBound replaces the process-wide bound and returns the one it
// replaced. Concurrency is clamped to 1…runtime.NumCPU(). Hashes already
// running or waiting finish under the old bound, in its slots' buffers,
// which are freed with it; the new bound's slots start without memory.
// Tests use it to make the bound small; production keeps DefaultBound.
func SetBound(b Bound) Bound {
	l := newLimiter(b)
	limMu.Lock()
	defer limMu.Unlock()
	old := lim.b
	lim = l
	return old
}

// CurrentBound is the bound in force.
func CurrentBound() Bound {
	limMu.RLock()
	defer limMu.RUnlock()
	return lim.b
}

func current() *limiter {
	limMu.RLock()
	defer limMu.RUnlock()
	return lim
}

// inSlot runs fn in a hashing slot with the slot's buffer, or returns
// ErrBusy. Every argon2id computation in this package goes through it.
func inSlot(fn func(*argon2.Buffer)) error {
	l := current()
	release, err := l.acquire()
	if err != nil {
		return err
	}
	defer release()
	l.withBuffer(fn)
	return nil
}

// withBuffer runs fn with one of l's buffers. The caller holds one of l's
// slots, and no more buffers are taken than slots are held, so one is free.
func (l *limiter) withBuffer(fn func(*argon2.Buffer)) {
	buf := <-l.bufs
	defer func() { l.bufs <- buf }()
	fn(buf)
}

// acquire takes a slot at once when one is free; otherwise it joins the
// queue, if there is room, and waits at most MaxWait. The wait and its
// result go to the observer (ObserveWaits).
func (l *limiter) acquire() (release func(), err error) {
	start := time.Now()
	release, err = l.wait()
	observeWait(time.Since(start), err != nil)
	return release, err
}

func (l *limiter) wait() (release func(), err error) {
	release = func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case l.queue <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-l.queue }()
	t := time.NewTimer(l.b.MaxWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	}
}

// Exhaust takes every slot of the bound in force, as that many running
// hashes would, and returns the function that frees them (idempotent).
// While they are held every hash waits in the queue and then gets ErrBusy.
// It exists for tests of how callers answer ErrBusy; with
// SetBound(Bound{Concurrency: 1}) first, the refusals are immediate.
func Exhaust() (release func()) {
	l := current()
	releases := make([]func(), 0, l.b.Concurrency)
	for range l.b.Concurrency {
		l.slots <- struct{}{} // waits for a running hash to finish
		releases = append(releases, func() { <-l.slots })
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, r := range releases {
				r()
			}
		})
	}
}

// Reservation is one hashing slot taken ahead of the work, for a caller
// that must know there is capacity before it commits to a check: sign-in
// counts an attempt before it checks it, and must not count one it could
// not check. Its Hash, Verify and DummyVerify run in the slot, one at a
// time; once released they go through the bound like the Hasher's.
type Reservation struct {
	h       Hasher
	l       *limiter   // the bound the slot is in
	mu      sync.Mutex // one hash at a time in the slot
	release func()     // nil once released
}

// Reserve takes a hashing slot for h as Hash would (waiting in the queue,
// or ErrBusy). Release it when done.
func (h Hasher) Reserve() (*Reservation, error) {
	l := current()
	rel, err := l.acquire()
	if err != nil {
		return nil, err
	}
	return &Reservation{h: h, l: l, release: rel}, nil
}

// Release frees the slot; calling it again does nothing.
func (r *Reservation) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

func (r *Reservation) run(fn func(*argon2.Buffer)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.release == nil {
		return inSlot(fn)
	}
	r.l.withBuffer(fn)
	return nil
}

// Hash is Hasher.Hash in the reserved slot.
func (r *Reservation) Hash(secret string) (string, error) { return r.h.hash(secret, r.run) }

// Verify is Hasher.Verify in the reserved slot.
func (r *Reservation) Verify(secret, phc string) (ok bool, needsRehash bool, err error) {
	return r.h.verify(secret, phc, r.run)
}

// DummyVerify is Hasher.DummyVerify in the reserved slot.
func (r *Reservation) DummyVerify(secret string) error { return r.h.dummyVerify(secret, r.run) }
