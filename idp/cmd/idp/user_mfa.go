package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// userMFA runs `idp user mfa reset --email …`: the operator removes a
// user's authenticator app and recovery codes (a lost phone, or an admin
// locked out), which also signs them out everywhere. It is audited with no
// actor, and the user is emailed.
func userMFA(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "reset" {
		return errors.New("user mfa needs a subcommand: reset")
	}
	return withUser(ctx, e, "user mfa reset", args[1:], func(cfg config.Config, store storage.Storage, logger *slog.Logger, u storage.User) error {
		return mfaReset(ctx, e, cfg, store, logger, u)
	})
}

// mfaReset removes u's app and delivers the notice.
func mfaReset(ctx context.Context, e env, cfg config.Config, store storage.Storage, logger *slog.Logger, u storage.User) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	// The server opens what the CLI seals: both use the configured KEK.
	kek, err := keys.LoadOrCreateKEK(cfg.SecretKey, cfg.SecretKeyFile, cfg.DataDir)
	if err != nil {
		return err
	}
	outbox, err := notify.NewOutbox(kek)
	if err != nil {
		return err
	}
	svc := &account.Service{Store: store, Logger: logger, Now: nowFunc, Outbox: outbox, Issuer: cfg.Issuer}
	m, err := account.NewMFA(svc, kek, &signin.Service{Store: store, Logger: logger}, cfg.MFARequiredRoles)
	if err != nil {
		return err
	}
	err = m.Reset(ctx, nil, u.ID, "")
	if errors.Is(err, account.ErrMFANotEnabled) {
		return fmt.Errorf("%s has no authenticator app set up", u.Email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "two-step sign-in reset for %s, signed out everywhere; they set up an authenticator app again", u.Email)
	if m.Required(u) {
		fmt.Fprint(e.stdout, " at their next sign-in (their role requires one)")
	}
	fmt.Fprintln(e.stdout)

	// Deliver the notice now; what cannot go out stays queued for the
	// server's worker.
	sender, err := notify.NewSender(cfg, logger)
	if err != nil {
		return err
	}
	worker := notify.Worker{Store: store, Outbox: outbox, Sender: sender, Logger: logger, Now: nowFunc}
	if _, err := worker.RunOnce(ctx); err != nil {
		logger.Warn("delivering queued email", "err", err)
	}
	return nil
}
