package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PostgresCluster is a throwaway PostgreSQL server of the test's own, on a
// free loopback port, that the test may stop, start and restart — unlike
// the shared server of PostgresDSN, which every test needs up. Trust
// authentication, no fsync; removed when the test ends.
type PostgresCluster struct {
	Port int
	bin  string   // the directory holding initdb, pg_ctl, postgres
	dir  string   // holds data/, the socket and the server's log
	run  []string // runs a command as the cluster's owner
}

// NewPostgresCluster initialises and starts a cluster. initdb refuses to
// run as root, so as root the cluster belongs to the postgres user (which
// Debian's postgresql package creates). A missing initdb skips the test,
// or fails it under CC_REQUIRE_ALL=1 (`make test` installs it).
func NewPostgresCluster(t testing.TB) *PostgresCluster {
	t.Helper()
	bin := postgresBinDir()
	if bin == "" {
		Require(t, "initdb and pg_ctl not found in /usr/lib/postgresql/*/bin or PATH (Debian package postgresql)")
	}
	c := &PostgresCluster{bin: bin}
	if os.Getuid() == 0 {
		owner, err := user.Lookup("postgres")
		if err != nil {
			Require(t, "running as root, and no postgres user to own a throwaway cluster: %v", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		c.run = []string{"runuser", "-u", "postgres", "--"}
		dir, err := os.MkdirTemp("", "cc-pgcluster-")
		if err != nil {
			t.Fatal(err)
		}
		c.dir = dir
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	} else {
		dir, err := os.MkdirTemp("", "cc-pgcluster-")
		if err != nil {
			t.Fatal(err)
		}
		c.dir = dir
	}
	t.Cleanup(func() {
		// immediate: nothing to keep; the directory goes anyway.
		_, _ = c.pgctl(context.Background(), "-m", "immediate", "stop")
		_ = os.RemoveAll(c.dir)
	})
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	c.Port, _ = strconv.Atoi(port)
	if c.Port == 5432 { // never the shared server's port
		t.Fatal("free port search answered 5432")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := c.as(ctx, filepath.Join(bin, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	c.Start(t)
	return c
}

// postgresBinDir is the newest /usr/lib/postgresql/*/bin holding initdb and
// pg_ctl, else the directory of the initdb on PATH, else "".
func postgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && isExecutable(filepath.Join(filepath.Dir(p), "pg_ctl")) {
		return filepath.Dir(p)
	}
	return ""
}

// versionOf is NN of /usr/lib/postgresql/NN/bin.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

func (c *PostgresCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the cluster's database name, as a postgres:// URL.
func (c *PostgresCluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// as runs a command as the cluster's owner and returns its output.
func (c *PostgresCluster) as(ctx context.Context, name string, args ...string) (string, error) {
	argv := append(slices.Clone(c.run), name)
	argv = append(argv, args...)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// pgctl runs pg_ctl on the cluster, waiting for the action to finish.
func (c *PostgresCluster) pgctl(ctx context.Context, args ...string) (string, error) {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
		c.Port, c.dir)
	full := append([]string{"-D", c.data(), "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "60", "-o", opts}, args...)
	return c.as(ctx, filepath.Join(c.bin, "pg_ctl"), full...)
}

func (c *PostgresCluster) ctl(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if out, err := c.pgctl(ctx, args...); err != nil {
		t.Fatalf("pg_ctl %s: %v: %s\nserver log:\n%s", strings.Join(args, " "), err, out, c.LogTail())
	}
}

// Start starts the server and returns once it accepts connections
// (pg_ctl start -w).
func (c *PostgresCluster) Start(t testing.TB) { t.Helper(); c.ctl(t, "start") }

// Stop stops the server: pg_ctl stop -m fast, which ends every session
// (connections see "terminating connection due to administrator command")
// and returns once the server is down.
func (c *PostgresCluster) Stop(t testing.TB) { t.Helper(); c.ctl(t, "-m", "fast", "stop") }

// Restart is pg_ctl restart -m fast: down as Stop, up again as Start.
func (c *PostgresCluster) Restart(t testing.TB) { t.Helper(); c.ctl(t, "-m", "fast", "restart") }

// LogTail is the end of the server's log.
func (c *PostgresCluster) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return strings.TrimSpace(string(b))
}
