package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
)

// The flood runs three processes besides this one: the provider (`idp
// serve`), the flooding client and the probe. The last two are this
// program (the bench, or its test binary) started again with a job in an
// environment variable; each writes its report as JSON to stdout. Separate
// processes keep the measurements apart: the probe's latencies are the
// provider's and the operating system's, not those of a Go scheduler busy
// with 400 flooding goroutines, and the flooding client alone runs at
// nice 10, as an attacker elsewhere would not take the provider's CPU.
const (
	probeEnv   = "IDPBENCH_PROBE"
	flooderEnv = "IDPBENCH_FLOODER"
)

// helperMain runs the helper job in the environment, if there is one, and
// reports whether it did and the exit status.
func helperMain() (bool, int) {
	for env, run := range map[string]func(job []byte) (any, error){probeEnv: probeJob, flooderEnv: flooderJob} {
		job := os.Getenv(env)
		if job == "" {
			continue
		}
		out, err := run([]byte(job))
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(out)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "idpbench %s: %v\n", env, err)
			return true, 1
		}
		return true, 0
	}
	return false, 0
}

// startHelper starts this program with job in env; wait waits for it and
// decodes its report into out.
func startHelper(ctx context.Context, env string, job any) (wait func(out any) error, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), env+"="+string(b))
	cmd.Stderr = os.Stderr
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s process: %w", env, err)
	}
	return func(out any) error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s process: %w", env, err)
		}
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			return fmt.Errorf("%s report: %w", env, err)
		}
		return nil
	}, nil
}
