package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// probeConfig is the probe process's job: discovery and userinfo (with
// Token) in turn, one request at a time with Pause between, for Duration.
type probeConfig struct {
	Issuer   string        `json:"issuer"`
	Token    string        `json:"token"` // a bearer access token for userinfo
	Duration time.Duration `json:"duration"`
	Pause    time.Duration `json:"pause"`
}

// probeReport is its answer: each request's latency, in order, and how
// many did not answer 200.
type probeReport struct {
	Latencies []time.Duration `json:"latencies"`
	Failures  int64           `json:"failures"`
}

func probeJob(job []byte) (any, error) {
	var cfg probeConfig
	if err := json.Unmarshal(job, &cfg); err != nil {
		return nil, err
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
	return r, nil
}
