// Command idpbench measures the provider the way a relying party and a
// browser use it: per-operation latency percentiles, CPU per operation and
// throughput of sign-in, code exchange, refresh, userinfo and
// introspection, and the latency of listing and searching users in a large
// directory, on the store and through the admin API (/admin/v1, with the
// typed client of shared/adminapi and a super_admin's scope-admin access
// token), on SQLite and on PostgreSQL.
//
//	go run ./idp/cmd/idpbench -backend sqlite|postgres|both -n 200 -users 100000
//
// The real server runs in this process on a loopback listener with
// production password hashing and 2048-bit signing keys; one client drives
// it sequentially. Every operation is timed individually over -n runs
// (wall clock around the call, never sleeps); CPU is the whole process's
// user+sys time (client and server together, and SQLite's engine, but not
// the PostgreSQL server's processes) over the timed runs, divided by -n.
//
// PostgreSQL: a fresh database idp_bench_<random> is created on the server
// named by -postgres (default IDP_BENCH_POSTGRES, else IDP_TEST_POSTGRES,
// else postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// dropped at the end. When that server is unreachable the backend is
// skipped with a note; the exit status is non-zero only when no backend
// ran or one failed.
//
// The flood (-flood, 10 s by default) runs after the timed operations, on
// a fresh database of each backend, against the real `idp serve` binary
// as a child process (-idp, or built with `go build`): -flood-conns loops
// of wrong-secret requests and as many loops of sign-ins, every request
// from a random source address, while one client probes discovery and
// userinfo. It reports the child's peak RSS (VmHWM) and the probe's
// percentiles, judged against issue 8's targets (peak RSS < 200 MiB, p99
// < 100 ms).
//
// It is a program, not a test: `make bench` runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

func main() {
	if ran, code := helperMain(); ran {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultPostgres is the server used when neither IDP_BENCH_POSTGRES nor
// IDP_TEST_POSTGRES is set.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// listTarget is the admin API issue's goal: list and search p95 on
// PostgreSQL with targetUsers users.
const (
	listTarget  = 50 * time.Millisecond
	targetUsers = 100_000
)

type options struct {
	backends []string
	n        int
	users    int
	seeders  int
	postgres string
	jsonPath string
	verbose  bool
	// flood is how long the flood runs (0 skips it); floodConns how many
	// loops of each kind; idp the binary it runs ("" builds one).
	flood      time.Duration
	floodConns int
	idp        string
	// load is how long each operation of issue 11's table runs against
	// `idp serve` with loadClients clients (0 skips the table).
	load time.Duration
	// profileDir, when set, receives a CPU profile of the child for each
	// load operation (<backend>-<op>.pprof), taken from its pprof listener.
	profileDir string
	// ops names the load operations to run (nil: all of loadOps).
	ops map[string]bool
}

func postgresFromEnv() string {
	for _, k := range []string{"IDP_BENCH_POSTGRES", "IDP_TEST_POSTGRES"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return defaultPostgres
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("idpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	backend := fs.String("backend", "both", "sqlite, postgres or both")
	fs.IntVar(&o.n, "n", 200, "timed runs of every operation")
	fs.IntVar(&o.users, "users", 100_000, "users seeded for the list and search operations (0 skips them)")
	fs.IntVar(&o.seeders, "seeders", 4, "goroutines seeding users on PostgreSQL (1…8; SQLite seeds with one)")
	fs.StringVar(&o.postgres, "postgres", postgresFromEnv(), "PostgreSQL server URL the bench may create a database on (env IDP_BENCH_POSTGRES, IDP_TEST_POSTGRES)")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.verbose, "v", false, "log the server's warnings and the bench's progress to stderr")
	fs.DurationVar(&o.flood, "flood", 10*time.Second, "how long the flood runs against `idp serve` on each backend (0 skips it)")
	fs.IntVar(&o.floodConns, "flood-conns", floodConns, "parallel loops of wrong-secret requests, and as many of sign-ins, in the flood")
	fs.StringVar(&o.idp, "idp", "", "the idp binary the flood and the load run (default: built with go build into a temporary directory)")
	fs.DurationVar(&o.load, "load", 10*time.Second, "how long each operation of issue 11's CPU table runs against `idp serve` with 8 clients (0 skips it)")
	fs.StringVar(&o.profileDir, "profile", "", "write a CPU profile of `idp serve` for each load operation into this directory (<backend>-<op>.pprof)")
	ops := fs.String("ops", "", "comma-separated load operations to run (default all: "+loadOpNames()+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch *backend {
	case "sqlite", "postgres":
		o.backends = []string{*backend}
	case "both":
		o.backends = []string{"sqlite", "postgres"}
	default:
		return o, fmt.Errorf("-backend %q: want sqlite, postgres or both", *backend)
	}
	if *ops != "" {
		o.ops = map[string]bool{}
		for _, name := range strings.Split(*ops, ",") {
			if !slices.ContainsFunc(loadOps, func(op loadOp) bool { return op.name == name }) {
				return o, fmt.Errorf("-ops: unknown operation %q (want %s)", name, loadOpNames())
			}
			o.ops[name] = true
		}
	}
	if o.n < 1 {
		return o, fmt.Errorf("-n %d: want at least 1", o.n)
	}
	if o.users < 0 {
		return o, fmt.Errorf("-users %d: want 0 or more", o.users)
	}
	if o.seeders < 1 || o.seeders > 8 {
		return o, fmt.Errorf("-seeders %d: want 1…8", o.seeders)
	}
	if o.load < 0 {
		return o, fmt.Errorf("-load %v: want a duration ≥ 0", o.load)
	}
	if o.flood < 0 || o.floodConns < 1 {
		return o, fmt.Errorf("-flood %v -flood-conns %d: want a duration ≥ 0 and at least 1 loop", o.flood, o.floodConns)
	}
	return o, nil
}

// report is everything one invocation measured; -json writes it.
type report struct {
	Started    time.Time        `json:"started"`
	GoVersion  string           `json:"go_version"`
	OS         string           `json:"os"`
	Arch       string           `json:"arch"`
	NumCPU     int              `json:"num_cpu"`
	GOMAXPROCS int              `json:"gomaxprocs"`
	N          int              `json:"n"`
	CPUNote    string           `json:"cpu_note"`
	Provider   providerInfo     `json:"provider"`
	Backends   []*backendRun    `json:"backends"`
	Skipped    []skippedBackend `json:"skipped,omitempty"`
	Target     *targetResult    `json:"target,omitempty"`
}

type skippedBackend struct {
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
}

// targetResult is the verdict on listTarget.
type targetResult struct {
	Backend string   `json:"backend"`
	Users   int      `json:"users"`
	P95MS   float64  `json:"p95_limit_ms"`
	Met     bool     `json:"met"`
	Failing []string `json:"failing,omitempty"`
	Note    string   `json:"note"`
}

const cpuNote = "cpu/op is this process's user+sys CPU (client, server and SQLite engine together; " +
	"not the PostgreSQL server's processes) over the timed runs, divided by n"

// providerInfo is how the provider under test is built: the defaults of
// `idp serve`.
type providerInfo struct {
	KeyBits       int    `json:"rsa_key_bits"` // ID tokens, RS256
	AccessKeys    string `json:"access_token_keys"`
	Argon2        string `json:"argon2id"`
	HashSlots     int    `json:"hash_slots"`
	HashQueue     int    `json:"hash_queue"`
	HashMaxWaitMS int64  `json:"hash_max_wait_ms"`
	HashMemoryMiB int    `json:"hash_memory_bound_mib"`
}

func newProviderInfo() providerInfo {
	p, b := password.DefaultParams, password.DefaultBound()
	return providerInfo{
		KeyBits:    keys.DefaultBits,
		AccessKeys: keys.ES256 + " P-256",
		Argon2:     fmt.Sprintf("m=%d KiB, t=%d, p=%d", p.Memory, p.Time, p.Threads),
		HashSlots:  b.Concurrency, HashQueue: b.Queue, HashMaxWaitMS: b.MaxWait.Milliseconds(),
		HashMemoryMiB: b.Concurrency * int(p.Memory) / 1024,
	}
}

// skipError is why a backend could not run for a reason outside the
// provider (PostgreSQL unreachable): the backend is skipped, not failed.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skip(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "idpbench: %v\n", err)
		return 2
	}
	rep := &report{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), N: o.n, CPUNote: cpuNote,
	}
	progress := io.Discard
	if o.verbose {
		progress = stderr
	}
	fmt.Fprintf(stdout, "idpbench: %s %s/%s, %d CPUs (GOMAXPROCS %d); n=%d per operation, sequential, one client; users=%d\n",
		rep.GoVersion, rep.OS, rep.Arch, rep.NumCPU, rep.GOMAXPROCS, o.n, o.users)
	fmt.Fprintf(stdout, "idpbench: client and server run in one process: %s\n", cpuNote)
	rep.Provider = newProviderInfo()
	pi := rep.Provider
	fmt.Fprintf(stdout, "idpbench: provider built as `idp serve` builds it: ID tokens %s RSA-%d, access tokens %s, argon2id %s; hashing bound %d slots (%d MiB), queue %d, max wait %d ms\n",
		keys.RS256, pi.KeyBits, pi.AccessKeys, pi.Argon2, pi.HashSlots, pi.HashMemoryMiB, pi.HashQueue, pi.HashMaxWaitMS)
	if (o.flood > 0 || o.load > 0) && o.idp == "" {
		dir, err := os.MkdirTemp("", "idpbench-bin-")
		if err != nil {
			fmt.Fprintf(stderr, "idpbench: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		if o.idp, err = testenv.BuildIDP(ctx, dir); err != nil {
			fmt.Fprintf(stderr, "idpbench: %v\n", err)
			return 1
		}
	}

	failed := false
	for _, b := range o.backends {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stdout, "\n== %s ==\n", b)
		res, err := runBackend(ctx, b, o, stdout, progress)
		var skipped *skipError
		switch {
		case errors.As(err, &skipped):
			fmt.Fprintf(stdout, "%s: SKIPPED: %v\n", b, err)
			rep.Skipped = append(rep.Skipped, skippedBackend{Backend: b, Reason: err.Error()})
			continue
		case err != nil:
			fmt.Fprintf(stdout, "%s: FAILED: %v\n", b, err)
			fmt.Fprintf(stderr, "idpbench: %s: %v\n", b, err)
			failed = true
			continue
		}
		rep.Backends = append(rep.Backends, res)
		fmt.Fprintln(stdout)
		printTable(stdout, res)
		if res.Load != nil {
			fmt.Fprintln(stdout)
			printLoad(stdout, b, res.Load, o.load)
		}
		if res.Flood != nil {
			fmt.Fprintln(stdout)
			printFlood(stdout, b, res.Flood)
		}
	}

	if len(rep.Backends) > 0 {
		fmt.Fprintln(stdout, "\noperations (rows: users the last list/search run returned; Limit 50):")
		printLegend(stdout, rep.Backends)
		fmt.Fprintln(stdout)
		rep.Target = judgeTarget(rep, o)
		fmt.Fprintln(stdout, rep.Target.Note)
	}
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, rep); err != nil {
			fmt.Fprintf(stderr, "idpbench: %v\n", err)
			failed = true
		} else {
			fmt.Fprintf(stdout, "results written to %s\n", o.jsonPath)
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "idpbench: interrupted")
		return 130
	case len(rep.Backends) == 0:
		fmt.Fprintln(stderr, "idpbench: no backend ran")
		return 1
	case failed:
		return 1
	}
	return 0
}

// judgeTarget says whether every list and search operation on PostgreSQL,
// on the store and through the admin API, kept its p95 under listTarget.
func judgeTarget(rep *report, o options) *targetResult {
	t := &targetResult{Backend: "postgres", P95MS: ms(listTarget)}
	var pg *backendRun
	for _, b := range rep.Backends {
		if b.Backend == "postgres" {
			pg = b
		}
	}
	if pg == nil {
		t.Note = "target (list/search p95 < 50 ms on PostgreSQL): NOT EVALUATED — PostgreSQL did not run"
		return t
	}
	t.Users = pg.Users
	var listOps []*opResult
	for _, r := range pg.Ops {
		if listKind(r.Kind) {
			listOps = append(listOps, r)
		}
	}
	if len(listOps) == 0 {
		t.Note = "target (list/search p95 < 50 ms on PostgreSQL): NOT EVALUATED — no users seeded (-users 0)"
		return t
	}
	worst := listOps[0]
	for _, r := range listOps {
		if r.P95MS > worst.P95MS {
			worst = r
		}
		if r.P95MS >= t.P95MS {
			t.Failing = append(t.Failing, fmt.Sprintf("%s p95 %.2f ms", r.Op, r.P95MS))
		}
	}
	t.Met = len(t.Failing) == 0
	scale := ""
	if pg.Users < targetUsers {
		scale = fmt.Sprintf(" (measured on %d users; the target is stated for %d)", pg.Users, targetUsers)
	}
	if t.Met {
		t.Note = fmt.Sprintf("target (list/search p95 < 50 ms on PostgreSQL, %d users): MET — worst p95 %.2f ms (%s)%s",
			pg.Users, worst.P95MS, worst.Op, scale)
	} else {
		t.Note = fmt.Sprintf("target (list/search p95 < 50 ms on PostgreSQL, %d users): NOT MET — %s%s",
			pg.Users, strings.Join(t.Failing, "; "), scale)
	}
	return t
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
