package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return errors.New("user needs a subcommand: add, list, disable, unlock or mfa")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, e, args[1:])
	case "list":
		return userList(ctx, e, args[1:])
	case "disable":
		return userDisable(ctx, e, args[1:])
	case "unlock":
		return userUnlock(ctx, e, args[1:])
	case "mfa":
		return userMFA(ctx, e, args[1:])
	}
	return fmt.Errorf("unknown user subcommand %q (add, list, disable, unlock, mfa)", args[0])
}

func userAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user add")
	var in account.NewUser
	var typ string
	var roles multi
	fs.StringVar(&in.Email, "email", "", "login email (required)")
	fs.StringVar(&in.GivenName, "given-name", "", "given name (required)")
	fs.StringVar(&in.FamilyName, "family-name", "", "family name (required)")
	fs.StringVar(&typ, "type", "", "employee or clinician (required)")
	fs.StringVar(&in.Phone, "phone", "", "phone number in international form, e.g. +14155550123")
	fs.Var(&roles, "role", "super_admin, admin or assigning_manager (repeatable)")
	pwStdin := fs.Bool("password-stdin", false, "read the user's password from standard input")
	invite := fs.Bool("invite", false, "email the user an invitation to verify the address and set their own password")
	cfg, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	for _, req := range []struct{ flag, val string }{{"email", in.Email}, {"given-name", in.GivenName}, {"family-name", in.FamilyName}, {"type", typ}} {
		if req.val == "" {
			return fmt.Errorf("--%s is required", req.flag)
		}
	}
	if *pwStdin == *invite {
		return errors.New("one of --password-stdin (pipe the password in) or --invite (email an invitation) is required, not both")
	}
	in.Type = storage.UserType(typ)
	for _, r := range roles {
		in.Roles = append(in.Roles, storage.Role(r))
	}
	if *pwStdin {
		if in.Password, err = readSecret(e.stdin, "password"); err != nil {
			return err
		}
	}
	policy, err := password.NewPolicy(cfg.PasswordMinLength)
	if err != nil {
		return err
	}
	store, logger, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := account.Service{Store: store, Hasher: password.NewHasher(), Policy: policy, Logger: logger, Now: nowFunc}
	var u storage.User
	if *invite {
		u, err = userInvite(ctx, e, cfg, logger, store, &svc, in)
	} else {
		u, err = svc.CreateUser(ctx, in)
	}
	switch {
	case errors.Is(err, storage.ErrEmailInUse):
		return errors.New("email already in use")
	case errors.Is(err, storage.ErrPhoneInUse):
		return errors.New("phone number already in use")
	case err != nil:
		return err
	}
	if *invite {
		return nil // userInvite has reported
	}
	fmt.Fprintf(e.stdout, "created %s %s (%s)\n", u.Type, u.Email, u.ID)
	return nil
}

// userInvite creates an invited user and queues the invitation, then, since
// the CLI exits, delivers pending mail once. Mail it cannot deliver now
// stays queued: the server's worker retries it.
func userInvite(ctx context.Context, e env, cfg config.Config, logger *slog.Logger, store storage.Storage, svc *account.Service, in account.NewUser) (storage.User, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return storage.User{}, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	// The server opens what the CLI seals: both use the configured KEK.
	kek, err := keys.LoadOrCreateKEK(cfg.SecretKey, cfg.SecretKeyFile, cfg.DataDir)
	if err != nil {
		return storage.User{}, err
	}
	outbox, err := notify.NewOutbox(kek)
	if err != nil {
		return storage.User{}, err
	}
	sender, err := notify.NewSender(cfg, logger)
	if err != nil {
		return storage.User{}, err
	}
	svc.Outbox, svc.Issuer, svc.InviteTTL = outbox, cfg.Issuer, cfg.InviteTTL
	u, err := svc.Invite(ctx, in)
	if err != nil {
		return storage.User{}, err
	}
	fmt.Fprintf(e.stdout, "invited %s %s (%s)\n", u.Type, u.Email, u.ID)

	worker := notify.Worker{Store: store, Outbox: outbox, Sender: sender, Logger: logger, Now: nowFunc}
	if _, err := worker.RunOnce(ctx); err != nil {
		logger.Warn("delivering queued email", "err", err)
	}
	pending, err := store.ListMessages(ctx, storage.MessageQuery{Status: storage.MessagePending, Limit: 500})
	if err != nil {
		return u, err
	}
	for _, m := range pending {
		if m.To == u.Email {
			fmt.Fprintf(e.stdout, "the invitation could not be delivered yet; it stays queued and the server will retry sending it\n")
			return u, nil
		}
	}
	fmt.Fprintf(e.stdout, "invitation sent to %s; the link expires in %s\n", u.Email, notify.HumanDuration(svc.LinkTTL(storage.PurposeInvitation)))
	return u, nil
}

func userList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user list")
	search := fs.String("search", "", "only users whose name, email or phone contains this")
	cfg, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tTYPE\tSTATUS\tROLES\tPHONE")
	q := storage.UserQuery{Search: *search, Limit: 500}
	for {
		users, next, err := store.ListUsers(ctx, q)
		if err != nil {
			return err
		}
		for _, u := range users {
			roles := make([]string, len(u.Roles))
			for i, r := range u.Roles {
				roles[i] = string(r)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name(), u.Type, u.Status, strings.Join(roles, ","), u.Phone)
		}
		if next == "" {
			break
		}
		q.After = next
	}
	return tw.Flush()
}

func userDisable(ctx context.Context, e env, args []string) error {
	return withUser(ctx, e, "user disable", args, func(_ config.Config, store storage.Storage, logger *slog.Logger, u storage.User) error {
		svc := account.Service{Store: store, Logger: logger, Now: nowFunc}
		if _, err := svc.DisableUser(ctx, u.ID, account.Actor{}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "disabled %s; their sessions, tokens and emailed links are revoked\n", u.Email)
		return nil
	})
}

// withUser parses the flags of a command that acts on one user, --email
// (required) among them, opens the store, finds the user and runs fn.
func withUser(ctx context.Context, e env, name string, args []string, fn func(cfg config.Config, store storage.Storage, logger *slog.Logger, u storage.User) error) error {
	fs := newFlags(e, name)
	email := fs.String("email", "", "login email of the user (required)")
	cfg, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	store, logger, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.GetUserByEmail(ctx, *email)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user with email %s", *email)
	} else if err != nil {
		return err
	}
	return fn(cfg, store, logger, u)
}

// userUnlock lifts the sign-in lock of an account (after failed sign-ins)
// before it runs out, and records it in the audit log.
func userUnlock(ctx context.Context, e env, args []string) error {
	return withUser(ctx, e, "user unlock", args, func(_ config.Config, store storage.Storage, _ *slog.Logger, u storage.User) error {
		unlocked, err := signin.Unlock(ctx, store, u, "", "", nowFunc())
		if err != nil {
			return err
		}
		if !unlocked {
			fmt.Fprintf(e.stdout, "%s is not locked\n", u.Email)
			return nil
		}
		fmt.Fprintf(e.stdout, "unlocked %s: sign-in is open again\n", u.Email)
		return nil
	})
}
