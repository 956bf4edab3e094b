package oidcprovider

import (
	"testing"
	"time"
)

func TestSecretCache(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	c := newSecretCache(time.Minute, 3)
	if c.verified("web", "h1", "s", now) {
		t.Fatal("empty cache verified a secret")
	}
	c.remember("web", "h1", "s", now)
	for _, tc := range []struct {
		name             string
		id, hash, secret string
		at               time.Time
		want             bool
	}{
		{"same triple", "web", "h1", "s", now.Add(30 * time.Second), true},
		{"other secret", "web", "h1", "t", now, false},
		{"rotated secret (new stored hash)", "web", "h2", "s", now, false},
		{"other client", "api", "h1", "s", now, false},
		{"no ambiguity in concatenation", "we", "bh1", "s", now, false},
		{"expired", "web", "h1", "s", now.Add(time.Minute), false},
	} {
		if got := c.verified(tc.id, tc.hash, tc.secret, tc.at); got != tc.want {
			t.Errorf("%s: verified = %v, want %v", tc.name, got, tc.want)
		}
	}
	for i := range 5 { // bounded: filling it clears it
		c.remember("web", "h1", string(rune('a'+i)), now)
	}
	if len(c.entries) > 3 {
		t.Fatalf("cache holds %d entries, max 3", len(c.entries))
	}
}
