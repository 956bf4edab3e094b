package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/password"
)

// tuneGC sets serve's GC defaults (Go's GOGC=100, a soft memory limit of
// 64 MiB plus three times the hashing bound's memory) and leaves an operator's
// GOGC and GOMEMLIMIT alone.
func TestTuneGC(t *testing.T) {
	percent0, limit0 := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent0); debug.SetMemoryLimit(limit0) })
	current := func() (int, int64) {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}
	const noLimit = int64(^uint64(0) >> 1) // math.MaxInt64, Go's "no limit"

	debug.SetMemoryLimit(noLimit)
	gogc, limit := tuneGC(func(string) string { return "" })
	wantLimit := int64(64<<20) + 3*int64(password.CurrentBound().Concurrency)*int64(password.DefaultParams.Memory)<<10
	if p, l := current(); p != 100 || l != wantLimit {
		t.Errorf("defaults: GOGC %d, limit %d; want Go's 100, %d", p, l, wantLimit)
	}
	if gogc != "100" || !strings.HasSuffix(limit, " MiB") {
		t.Errorf("defaults said %q, %q", gogc, limit)
	}

	debug.SetGCPercent(150) // as the runtime sets it from GOGC=150
	debug.SetMemoryLimit(noLimit)
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}
	gogc, limit = tuneGC(func(k string) string { return env[k] })
	if p, l := current(); p != 150 || l != noLimit {
		t.Errorf("with GOGC and GOMEMLIMIT set: GOGC %d, limit %d; want them untouched", p, l)
	}
	if gogc != "GOGC=150" || limit != "GOMEMLIMIT=1GiB" {
		t.Errorf("with the operator's settings said %q, %q", gogc, limit)
	}
}
