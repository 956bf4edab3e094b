package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BuildIDP builds the idp command into dir (CGO_ENABLED=0, as `make
// build-idp`; without -trimpath, so it shares the build cache with tests)
// and returns the binary's path.
func BuildIDP(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "idp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/cliniconnects/identity/idp/cmd/idp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build idp: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// IDPOptions says how to run one `idp serve`.
type IDPOptions struct {
	Binary   string // the idp binary (BuildIDP)
	Database string // IDP_DATABASE
	DataDir  string // IDP_DATA_DIR; the log file idp-serve.log goes here too
	// Addr is the host:port it listens on (IDP_LISTEN); "" picks a free
	// loopback port.
	Addr string
	// Issuer is IDP_ISSUER; "" is http://Addr. Replicas behind a proxy
	// share the proxy's.
	Issuer string
	// Env holds more settings, KEY=VALUE, e.g. IDP_SECRET_KEY for
	// replicas that must share a key-encryption key. They come after the
	// ones above and so win over them.
	Env []string
	// ReadyTimeout bounds the wait for GET /readyz to answer 200; 0 is
	// two minutes.
	ReadyTimeout time.Duration
}

// IDP is `idp serve` running as a separate process. Its environment
// holds no IDP_ variable of this process's: only what IDPOptions names.
type IDP struct {
	Cmd    *exec.Cmd
	Addr   string // where it listens
	Issuer string // its IDP_ISSUER
	Log    string // the file its stderr (the log) goes to
	done   chan struct{}
	err    error // Wait's answer, once done is closed
}

// FreeAddr is a loopback host:port nothing listens on at the moment.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr, nil
}

// StartIDP runs `idp serve` as o says and waits until its /readyz answers
// 200. The process outlives ctx; end it with Stop or Kill.
func StartIDP(ctx context.Context, o IDPOptions) (*IDP, error) {
	c, err := LaunchIDP(o)
	if err != nil {
		return nil, err
	}
	if err := c.WaitReady(ctx, o.ReadyTimeout); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// LaunchIDP starts `idp serve` as o says without waiting for it.
func LaunchIDP(o IDPOptions) (*IDP, error) {
	if o.Addr == "" {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		o.Addr = addr
	}
	if o.Issuer == "" {
		o.Issuer = "http://" + o.Addr
	}
	c := &IDP{Addr: o.Addr, Issuer: o.Issuer, done: make(chan struct{})}
	c.Cmd = exec.Command(o.Binary, "serve")
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDP_") && !strings.HasPrefix(kv, "IDPBENCH_") {
			env = append(env, kv)
		}
	}
	env = append(env, "IDP_ISSUER="+o.Issuer, "IDP_LISTEN="+o.Addr, "IDP_DATA_DIR="+o.DataDir, "IDP_DATABASE="+o.Database)
	c.Cmd.Env = append(env, o.Env...)
	// The log goes to a file: a pipe would make this process read every
	// line a flood makes the provider write.
	logFile, err := os.OpenFile(filepath.Join(o.DataDir, "idp-serve.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	c.Log = logFile.Name()
	c.Cmd.Stdout = io.Discard
	c.Cmd.Stderr = logFile
	dieWithParent(c.Cmd)
	if err := c.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start idp serve: %w", err)
	}
	go func() { c.err = c.Cmd.Wait(); close(c.done) }()
	return c, nil
}

// WaitReady polls GET /readyz until it answers 200, the process exits,
// ctx ends or timeout (0: two minutes) passes.
func (c *IDP) WaitReady(ctx context.Context, timeout time.Duration) error {
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-c.done:
			return fmt.Errorf("idp serve exited: %v: %s", c.err, c.LogTail())
		default:
		}
		if resp, err := client.Get("http://" + c.Addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("idp serve not ready after %v: %s", timeout, c.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exited reports whether the process has ended.
func (c *IDP) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for
// it. Stopping an ended process does nothing.
func (c *IDP) Stop() {
	if c.Exited() {
		return
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.done
	}
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer would:
// no shutdown, requests in flight cut off. It waits for the process.
func (c *IDP) Kill() {
	_ = c.Cmd.Process.Kill()
	<-c.done
}

// LogTail is the end of the process's log, for an error message.
func (c *IDP) LogTail() string {
	b, _ := os.ReadFile(c.Log)
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return strings.TrimSpace(string(b))
}

// CPU is the process's user+sys CPU so far (/proc/<pid>/stat), 0 when
// unreadable.
func (c *IDP) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name: state is the 3rd
	// field of the line, utime the 14th and stime the 15th.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// Memory reads a "VmXXX:  N kB" line of the process's /proc status, in
// bytes (field "VmRSS", "VmHWM", …).
func (c *IDP) Memory(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", c.Cmd.Process.Pid, field)
}

// ServeIDP is StartIDP for a test: it fails t when the provider does not
// come up, and stops it when t ends (its log tail is logged if t failed).
func ServeIDP(t testing.TB, o IDPOptions) *IDP {
	t.Helper()
	c, err := StartIDP(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("log of idp serve on %s (end):\n%s", c.Addr, c.LogTail())
		}
	})
	return c
}
