package password

import (
	"sync/atomic"
	"time"
)

// BoundState is how busy the process-wide hashing bound is.
type BoundState struct {
	Concurrency int // hashing slots
	InUse       int // slots held by running hashes (or reservations)
	Queue       int // room for waiters
	Waiting     int // callers waiting for a slot
}

// State reports the bound in force and how many of its slots and queue
// places are taken now.
func State() BoundState {
	l := current()
	return BoundState{Concurrency: l.b.Concurrency, InUse: len(l.slots), Queue: l.b.Queue, Waiting: len(l.queue)}
}

var waitObserver atomic.Pointer[func(wait time.Duration, busy bool)]

// ObserveWaits has fn told, for every hashing slot asked for (Hash,
// Verify, VerifySecret, DummyVerify, Reserve), how long the caller waited
// and whether it got ErrBusy; nil stops it. It is process-wide, as the
// bound is; the metrics package sets it.
func ObserveWaits(fn func(wait time.Duration, busy bool)) {
	if fn == nil {
		waitObserver.Store(nil)
		return
	}
	waitObserver.Store(&fn)
}

func observeWait(d time.Duration, busy bool) {
	if fn := waitObserver.Load(); fn != nil {
		(*fn)(d, busy)
	}
}
