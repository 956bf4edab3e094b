package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
)

// newFlags returns a flag set carrying the shared configuration flags.
func newFlags(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("idp "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	config.Register(fs)
	return fs
}

// parse parses args and loads the configuration. A flag error has already
// been printed by the flag package.
func parse(e env, fs *flag.FlagSet, args []string) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		return config.Config{}, errUsage
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return config.Load(e.getenv, fs)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens and migrates the configured store, with the logger every
// command logs to (stderr, at the configured level).
func openStore(ctx context.Context, e env, cfg config.Config) (*sqlstore.Store, *slog.Logger, error) {
	logger := newLogger(e.stderr, cfg.LogLevel)
	store, err := sqlstore.Open(ctx, cfg.Database, logger, sqlstore.WithWait(cfg.DatabaseWait))
	if err != nil {
		return nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return store, logger, nil
}

// readSecret reads one line from r (a password or secret piped to stdin),
// without its line ending.
func readSecret(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no %s on stdin", what)
	}
	return line, nil
}

// multi is a flag that may be repeated.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
