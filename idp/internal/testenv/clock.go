package testenv

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is a test clock that stands still until the test moves it. Safe for
// concurrent use; pass its Now method where code takes a clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ShiftedClock is real time plus an offset the test can grow: for servers
// whose other parts (HTTP clients, JWT libraries) read the real clock.
type ShiftedClock struct{ offset atomic.Int64 }

// Now is time.Now plus the offset.
func (c *ShiftedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance grows the offset by d.
func (c *ShiftedClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
