// Command idp is the CliniConnects Identity provider: one binary that serves
// OpenID Connect, applies migrations, and manages users, clients and keys.
//
//	idp serve | migrate | version
//	idp user add|list|disable …
//	idp client add|list …
//	idp keys rotate
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// env is what a command reads from its surroundings; tests supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name, usage string
	run         func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the provider", cmdServe},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"version", "print the version", func(_ context.Context, e env, _ []string) error {
			fmt.Fprintln(e.stdout, "idp", version)
			return nil
		}},
		{"user", "add | list | disable users; mfa reset", cmdUser},
		{"client", "add | list OIDC clients", cmdClient},
		{"keys", "rotate the token signing key", cmdKeys},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{os.Stdin, os.Stdout, os.Stderr, os.Getenv})
	stop()
	os.Exit(code)
}

// errUsage marks an error whose message is already the whole story.
var errUsage = errors.New("usage")

// run executes one command and returns the exit code. Errors are printed as
// one line prefixed "idp: ".
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(ctx, e, args[1:]); err != nil {
				if !errors.Is(err, errUsage) {
					fmt.Fprintln(e.stderr, "idp:", err)
				}
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(e.stderr, "idp: unknown command %q (run idp --help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: idp <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nEvery command reads IDP_* environment variables or the matching flags; see idp serve --help.")
}
