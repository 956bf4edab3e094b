package main

import (
	"bytes"
	"os"
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
// the 99th percentile, without a failure. The flooding client runs at
// nice 10, as if it were elsewhere. The backends run one after the other:
// two floods at once would measure each other.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the provider for several seconds")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		testenv.Require(t, "the flood reads peak RSS from /proc: %v", err)
	}
	idp, err := buildIDP(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			// One descheduling of the probe on a shared machine spoils the
			// p99 of a 3-second sample; a run that misses only the latency
			// target is repeated once, and every run is logged.
			var r *floodResult
			for run := 1; run <= 2; run++ {
				var err error
				r, err = runFlood(t.Context(), floodConfig{idp: idp, dsn: b.DSN(t), dataDir: t.TempDir(),
					duration: floodTestDuration, conns: floodConns, progress: testWriter{t}})
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				printFlood(&out, b.Name, r)
				t.Logf("run %d:\n%s", run, out.String())
				if r.Met || r.PeakRSSMiB >= mib(floodRSSLimit) || r.ProbeFailures > 0 {
					break
				}
			}
			checkFlood(t, r)
		})
	}
}

// checkFlood asserts issue 8's targets and that the flood did what it
// should.
func checkFlood(t *testing.T, r *floodResult) {
	t.Helper()
	if r.PeakRSSMiB >= mib(floodRSSLimit) {
		t.Errorf("peak RSS %.1f MiB, want < %.0f MiB", r.PeakRSSMiB, mib(floodRSSLimit))
	}
	if r.Probe.P99MS >= ms(floodP99Limit) || r.ProbeFailures > 0 {
		t.Errorf("probe p99 %.2f ms with %d failures, want < %.0f ms and none", r.Probe.P99MS, r.ProbeFailures, ms(floodP99Limit))
	}
	if !r.Met || !strings.Contains(r.Note, "MET") {
		t.Errorf("verdict %q", r.Note)
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
	if r.Probe.N < 100 {
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
