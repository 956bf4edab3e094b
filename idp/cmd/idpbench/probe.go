package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// probeEnv, when set in the environment, makes this program (the bench,
// or its test binary) the flood's probe instead: it reads a probeConfig
// from the variable, probes, writes a probeReport to stdout and exits.
// The probe is its own process so that its latencies are the provider's
// and the operating system's, not those of the flooding client's Go
// scheduler with its 400 busy goroutines.
const probeEnv = "IDPBENCH_PROBE"

// probeConfig is what the probe process is told.
type probeConfig struct {
	Issuer   string        `json:"issuer"`
	Token    string        `json:"token"` // a bearer access token for userinfo
	Duration time.Duration `json:"duration"`
	Pause    time.Duration `json:"pause"`
}

// probeReport is what it answers: each request's latency, in order, and
// how many did not answer 200.
type probeReport struct {
	Latencies []time.Duration `json:"latencies"`
	Failures  int64           `json:"failures"`
}

// runProbeProcess starts this program as the probe, waits for it and
// reads its report.
func runProbeProcess(ctx context.Context, cfg probeConfig) (probeReport, error) {
	self, err := os.Executable()
	if err != nil {
		return probeReport{}, err
	}
	b, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), probeEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return probeReport{}, fmt.Errorf("probe process: %w", err)
	}
	var r probeReport
	if err := json.Unmarshal(out, &r); err != nil {
		return probeReport{}, fmt.Errorf("probe report: %w", err)
	}
	return r, nil
}

// probeMain is the probe process: GET discovery and GET userinfo in turn,
// one at a time with a pause between, for the configured duration.
func probeMain() int {
	var cfg probeConfig
	if err := json.Unmarshal([]byte(os.Getenv(probeEnv)), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "idpbench probe: %v\n", err)
		return 2
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var r probeReport
	end := time.Now().Add(cfg.Duration)
	for i := 0; time.Now().Before(end); i++ {
		req, _ := http.NewRequest(http.MethodGet, cfg.Issuer+"/.well-known/openid-configuration", nil)
		if i%2 == 1 {
			req, _ = http.NewRequest(http.MethodGet, cfg.Issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+cfg.Token)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		r.Latencies = append(r.Latencies, time.Since(t0))
		if err != nil {
			r.Failures++
		}
		time.Sleep(cfg.Pause)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 1
	}
	return 0
}
