package metrics_test

import (
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/metrics"
	"github.com/cliniconnects/identity/idp/internal/password"
)

// value reads an unlabelled sample from a scrape.
func value(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	_, body := get(t, m.Handler(), "/metrics")
	match := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
	if match == nil {
		t.Fatalf("%s missing", name)
	}
	v, err := strconv.ParseFloat(match[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The hashing families follow the process-wide bound: slots in use, a
// caller waiting in the queue, the wait it had and a refusal (ErrBusy).
func TestHashingFamilies(t *testing.T) {
	m := metrics.New(metrics.Sources{})
	old := password.SetBound(password.Bound{Concurrency: 1, Queue: 1, MaxWait: 200 * time.Millisecond})
	defer password.SetBound(old)
	h := password.Hasher{}.WithParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})

	busy0, waits0 := value(t, m, "idp_password_hash_busy_total"), value(t, m, "idp_password_hash_wait_seconds_count")
	release := password.Exhaust()
	if v := value(t, m, "idp_password_hash_slots_in_use"); v != 1 {
		t.Errorf("slots in use %v, want 1", v)
	}
	done := make(chan error, 1)
	go func() { _, err := h.Hash("waiting"); done <- err }() // queued until MaxWait
	deadline := time.Now().Add(5 * time.Second)
	for value(t, m, "idp_password_hash_waiters") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the queued hash never showed as a waiter")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := h.Hash("refused"); !errors.Is(err, password.ErrBusy) { // the queue is full
		t.Fatalf("hash with a full queue: %v, want ErrBusy", err)
	}
	if err := <-done; !errors.Is(err, password.ErrBusy) {
		t.Fatalf("queued hash: %v, want ErrBusy after MaxWait", err)
	}
	release()
	if _, err := h.Hash("free"); err != nil {
		t.Fatal(err)
	}
	if v := value(t, m, "idp_password_hash_busy_total") - busy0; v < 2 {
		t.Errorf("busy counted %v, want ≥ 2", v)
	}
	if v := value(t, m, "idp_password_hash_wait_seconds_count") - waits0; v < 3 {
		t.Errorf("waits observed %v, want ≥ 3", v)
	}
	if v := value(t, m, "idp_password_hash_waiters"); v != 0 {
		t.Errorf("waiters %v after the queue drained", v)
	}
	if v := value(t, m, "idp_password_hash_wait_seconds_sum"); v < 0.2 {
		t.Errorf("wait time sum %v, want ≥ MaxWait (0.2 s)", v)
	}
}
