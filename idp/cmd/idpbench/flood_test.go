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
// per-source throttles cannot help and the hashing bound alone has to
// hold): its peak RSS (VmHWM) stays under 200 MiB and a concurrent
// discovery/userinfo probe answers within 100 ms at the 99th percentile,
// without a failure. The backends run one after the other: two floods at
// once would measure each other.
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
			r, err := runFlood(t.Context(), floodConfig{idp: idp, dsn: b.DSN(t), dataDir: t.TempDir(),
				duration: floodTestDuration, conns: floodConns, progress: testWriter{t}})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			printFlood(&out, b.Name, r)
			t.Logf("\n%s", out.String())

			if r.PeakRSSMiB >= mib(floodRSSLimit) {
				t.Errorf("peak RSS %.1f MiB, want < %.0f MiB", r.PeakRSSMiB, mib(floodRSSLimit))
			}
			if r.Probe.P99MS >= ms(floodP99Limit) || r.ProbeFailures > 0 {
				t.Errorf("probe p99 %.2f ms with %d failures, want < %.0f ms and none", r.Probe.P99MS, r.ProbeFailures, ms(floodP99Limit))
			}
			if !r.Met || !strings.Contains(r.Note, "MET") {
				t.Errorf("verdict %q", r.Note)
			}
			// The flood really reached argon2id: wrong secrets were checked
			// and refused (401), and the bound turned the excess away (503).
			ws, si := r.Answers["wrong_secret"], r.Answers["signin"]
			if ws["401"] == 0 || ws["503"] == 0 {
				t.Errorf("wrong-secret answers %v: want both 401 (checked) and 503 (bound full)", ws)
			}
			if si["303"]+si["302"]+si["401"] == 0 || si["503"] == 0 {
				t.Errorf("sign-in answers %v: want checked sign-ins and 503s", si)
			}
			for kind, counts := range r.Answers {
				for status, n := range counts {
					if status == "error" || strings.HasPrefix(status, "5") && status != "503" {
						t.Errorf("%s: %d answers %s", kind, n, status)
					}
				}
			}
			if r.Probe.N < 20 {
				t.Errorf("only %d probes", r.Probe.N)
			}
		})
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestMain lets the test binary be the flood's probe process too.
func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) != "" {
		os.Exit(probeMain())
	}
	os.Exit(m.Run())
}
