package oidcprovider

import (
	"crypto/sha256"
	"sync"
	"time"
)

// secretCache remembers client secrets that verified recently, so that a
// busy module does not pay one argon2id verification (~40 ms of CPU) on
// every token, refresh and introspection request. Only successes are
// remembered — a wrong secret always costs a full verification — and an
// entry is keyed by the client id, the stored hash and the presented secret,
// so rotating a secret (a new stored hash) makes the old entries unreachable.
// Entries hold a SHA-256 digest, never the secret.
type secretCache struct {
	ttl time.Duration
	max int // entries kept at most; the map is cleared when full

	mu      sync.Mutex
	entries map[[32]byte]time.Time // digest → expiry
}

func newSecretCache(ttl time.Duration, max int) *secretCache {
	return &secretCache{ttl: ttl, max: max, entries: map[[32]byte]time.Time{}}
}

func secretDigest(clientID, storedHash, secret string) [32]byte {
	h := sha256.New()
	for _, s := range []string{clientID, storedHash, secret} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// verified reports whether the triple verified within the TTL.
func (c *secretCache) verified(clientID, storedHash, secret string, now time.Time) bool {
	d := secretDigest(clientID, storedHash, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[d]
	if ok && !now.Before(exp) {
		delete(c.entries, d)
		return false
	}
	return ok
}

// remember records a successful verification.
func (c *secretCache) remember(clientID, storedHash, secret string, now time.Time) {
	d := secretDigest(clientID, storedHash, secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[d] = now.Add(c.ttl)
}
