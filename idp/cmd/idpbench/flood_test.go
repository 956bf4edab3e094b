package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// floodTestDuration keeps `make test` fast; `make bench` floods for 10 s.
const floodTestDuration = 3 * time.Second

// TestFlood: the real `idp serve` binary, as a child process on a fresh
// database of each backend, flooded by 200 loops of wrong-secret requests
// and 200 loops of sign-ins, every request from a random source (so the
// per-source throttles cannot help and the hashing and admission bounds
// alone have to hold): its peak RSS (VmHWM) stays under 200 MiB and a
// discovery/userinfo probe, a separate process, answers within 100 ms at
// the 99th percentile, without a failure (see checkFlood for a machine
// that other work keeps busy). The flooding client runs at nice 10, as if
// it were elsewhere. The backends run one after the other: two floods at
// once would measure each other.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the provider for several seconds")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		testenv.Require(t, "the flood reads peak RSS from /proc: %v", err)
	}
	idp, err := testenv.BuildIDP(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			// One descheduling of the probe on a shared machine spoils the
			// p99 of a 3-second sample; a run that misses only the latency
			// target is repeated once, and every run is logged.
			var r *floodResult
			var load float64
			for run := 1; run <= 2; run++ {
				load = loadAverage()
				var err error
				r, err = runFlood(t.Context(), floodConfig{idp: idp, dsn: b.DSN(t), dataDir: t.TempDir(),
					duration: floodTestDuration, conns: floodConns, progress: testWriter{t}})
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				printFlood(&out, b.Name, r)
				t.Logf("run %d (load average %.1f on %d CPUs before it):\n%s", run, load, runtime.NumCPU(), out.String())
				if r.Met || r.PeakRSSMiB >= mib(floodRSSLimit) || r.ProbeFailures > 0 {
					break
				}
			}
			checkFlood(t, r, load > float64(runtime.NumCPU()))
		})
	}
}

// checkFlood asserts issue 8's targets and that the flood did what it
// should. On a machine that other work already kept busy (busy: a load
// average above the CPU count before the run) the probe waits for CPU
// that is not the provider's to give, and its p99 says more about that
// work than about the provider: then the probe's median must stay under
// the limit (a flood that starves the cheap requests, as one that took
// every database connection did, fails that too) and a missed p99 is
// logged, not failed. `make bench` prints the full verdict.
func checkFlood(t *testing.T, r *floodResult, busy bool) {
	t.Helper()
	if r.PeakRSSMiB >= mib(floodRSSLimit) {
		t.Errorf("peak RSS %.1f MiB, want < %.0f MiB", r.PeakRSSMiB, mib(floodRSSLimit))
	}
	if r.ProbeFailures > 0 {
		t.Errorf("%d probe requests failed", r.ProbeFailures)
	}
	switch {
	case r.Probe.P99MS < ms(floodP99Limit):
	case busy && r.Probe.P50MS < ms(floodP99Limit):
		t.Logf("probe p99 %.2f ms over the %.0f ms target on a machine busy before the flood; not judged here (p50 %.2f ms)",
			r.Probe.P99MS, ms(floodP99Limit), r.Probe.P50MS)
	default:
		t.Errorf("probe p99 %.2f ms (p50 %.2f ms), want < %.0f ms", r.Probe.P99MS, r.Probe.P50MS, ms(floodP99Limit))
	}
	// The flood really reached argon2id (wrong secrets checked and
	// refused: 401) and the bounds turned the excess away (503). No
	// sign-in was refused as locked (429): attempts the bounds refused
	// were never counted against the real user.
	ws, si := r.Answers["wrong_secret"], r.Answers["signin"]
	if ws["401"] == 0 || ws["503"] == 0 || si["503"] == 0 {
		t.Errorf("answers %v: want wrong secrets checked (401) and both kinds turned away (503)", r.Answers)
	}
	if si["429"] > 0 {
		t.Errorf("%d sign-ins answered 429: the flood locked the user out", si["429"])
	}
	for kind, counts := range r.Answers {
		for status, n := range counts {
			if status == "error" || strings.HasPrefix(status, "5") && status != "503" {
				t.Errorf("%s: %d answers %s", kind, n, status)
			}
		}
	}
	// The probe asks one request at a time: on a busy machine it gets
	// fewer turns, but it must still have got a fair number.
	if r.Probe.N < 100 && !(busy && r.Probe.N >= 30) {
		t.Errorf("only %d probes", r.Probe.N)
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestMain lets the test binary be the flood's probe and flooding
// processes too.
func TestMain(m *testing.M) {
	if ran, code := helperMain(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// loadAverage is the machine's 1-minute load average (0 when unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
