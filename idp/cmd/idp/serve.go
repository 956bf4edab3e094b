package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
)

var nowFunc = time.Now

func cmdMigrate(ctx context.Context, e env, args []string) error {
	cfg, err := parse(e, newFlags(e, "migrate"), args)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, err := parse(e, newFlags(e, "serve"), args)
	if err != nil {
		return err
	}
	policy, err := password.NewPolicy(cfg.PasswordMinLength)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	store, logger, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	// zitadel/oidc logs through the default logger: give it ours, so that
	// IDP_LOG_LEVEL and the log's destination hold for its lines too, with
	// its per-request error lines quiet for requests that met an outage.
	slog.SetDefault(slog.New(server.QuietOutageErrors(logger.Handler())))
	defer store.Close()
	gogc, memLimit := tuneGC(os.Getenv)
	logger.Info("garbage collection", "gogc", gogc, "memory_limit", memLimit)

	accounts := account.Service{Store: store, Hasher: password.NewHasher(), Policy: policy, Logger: logger, Now: nowFunc}
	admin, adminPassword, created, err := accounts.Bootstrap(ctx, cfg.BootstrapEmail)
	if err != nil {
		return err
	}
	handler, err := server.New(ctx, server.Deps{Config: cfg, Store: store, Logger: logger, Now: nowFunc})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (IDP_LISTEN): %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	banner(e, cfg.Issuer, ln.Addr().String(), cfg.MetricsListen, admin.Email, adminPassword, created)
	logger.Info("serving", "listen", ln.Addr().String(), "issuer", cfg.Issuer)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// gcBaseLimit is the soft memory limit of `idp serve` besides the hashing
// slots' memory, unless GOMEMLIMIT is set.
const gcBaseLimit = 64 << 20

// tuneGC bounds the heap and says what is in force. The soft memory limit —
// 64 MiB plus three times the hashing bound's memory — keeps the heap
// bounded when a flood fills the slots and their queue (the collector then
// runs as often as it must). GOGC stays Go's default, 100.
//
// Each hashing slot keeps one argon2 buffer (password.Bound), so a hash
// allocates nothing and sign-ins start few collections. Measured with the
// buffers (idpbench, 8 clients, both backends), Go's default against the
// GOGC=200 this used while every hash allocated its 19 MiB afresh: CPU per
// sign-in besides the hash 1.4–1.8 ms against 1.7–2.3, per hash 19–22 ms
// against 21–24, and peak RSS in a 10 s flood 98–100 MiB against
// 131–134. An operator's GOGC or GOMEMLIMIT wins.
func tuneGC(getenv func(string) string) (gogc, limit string) {
	gogc, limit = "GOGC="+getenv("GOGC"), "GOMEMLIMIT="+getenv("GOMEMLIMIT")
	if getenv("GOGC") == "" {
		gogc = "100"
	}
	if getenv("GOMEMLIMIT") == "" {
		b, m := password.CurrentBound(), int64(password.DefaultParams.Memory)<<10
		l := gcBaseLimit + 3*int64(b.Concurrency)*m
		debug.SetMemoryLimit(l)
		limit = strconv.FormatInt(l>>20, 10) + " MiB"
	}
	return gogc, limit
}

// banner tells the person who ran the server where it is and how to sign in.
// The bootstrap password goes to the console (stdout) once and never to the
// log.
func banner(e env, issuer, addr, metricsAddr, adminEmail, adminPassword string, created bool) {
	fmt.Fprintf(e.stdout, "\nCliniConnects Identity is running on %s\n", addr)
	fmt.Fprintf(e.stdout, "  Issuer:     %s\n", issuer)
	fmt.Fprintf(e.stdout, "  Discovery:  %s/.well-known/openid-configuration\n", issuer)
	fmt.Fprintf(e.stdout, "  Ready:      %s/readyz\n", issuer)
	if metricsAddr != "" {
		fmt.Fprintf(e.stdout, "  Metrics:    http://%s/metrics and /debug/pprof/ (IDP_METRICS_LISTEN; keep it private)\n", metricsAddr)
	}
	if created {
		fmt.Fprintf(e.stdout, "\nFirst start: a super admin was created. This password is shown only now:\n")
		fmt.Fprintf(e.stdout, "  Email:      %s\n  Password:   %s\n", adminEmail, adminPassword)
		fmt.Fprintf(e.stdout, "Super admins sign in with two steps (IDP_MFA_REQUIRED_ROLES): at the first sign-in\nyou set up an authenticator app (the page shows a QR code and the key to type in).\n")
	}
	fmt.Fprintf(e.stdout, "\nSign in at %s/login (it opens your account page); modules sign in through\nthe provider once registered with `idp client add` (see README). Stop with Ctrl-C.\n\n", issuer)
}
