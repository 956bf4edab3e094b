package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cliniconnects/identity/idp/internal/clients"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func cmdClient(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return errors.New("client needs a subcommand: add or list")
	}
	switch args[0] {
	case "add":
		return clientAdd(ctx, e, args[1:])
	case "list":
		return clientList(ctx, e, args[1:])
	}
	return fmt.Errorf("unknown client subcommand %q (add, list)", args[0])
}

func clientAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "client add")
	var c clients.NewClient
	var redirects, logouts, grants, roles, types, scopes multi
	fs.StringVar(&c.ID, "id", "", "client id (required)")
	fs.StringVar(&c.Name, "name", "", "display name (default: the id)")
	secretStdin := fs.Bool("secret-stdin", false, "read the client secret from standard input (confidential client; stored with argon2id)")
	generate := fs.Bool("generate-secret", false, "generate a 256-bit client secret and print it once (confidential client; checked without argon2id)")
	fs.BoolVar(&c.Public, "public", false, "public client (no secret; PKCE required)")
	fs.Var(&redirects, "redirect-uri", "allowed redirect URI, matched exactly (repeatable)")
	fs.Var(&logouts, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant", "authorization_code, refresh_token or client_credentials (repeatable; default the first two)")
	fs.Var(&roles, "admit-role", "only users holding one of these roles may sign in (repeatable)")
	fs.Var(&types, "admit-type", "only these user types may sign in: employee, clinician (repeatable)")
	fs.Var(&scopes, "scope", "extra scope the client may request, e.g. admin (repeatable)")
	fs.BoolVar(&c.RequireMFA, "require-mfa", false, "everyone who signs in to this client uses two factors (an authenticator app; set up during sign-in if missing)")
	fs.StringVar(&c.SignInMethod, "sign-in", storage.SignInEmail, "how users sign in: email (email and password) or phone (clinicians: mobile number and PIN)")
	cfg, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if c.ID == "" {
		return errors.New("--id is required")
	}
	if n := btoi(*secretStdin) + btoi(*generate) + btoi(c.Public); n != 1 {
		return errors.New("give exactly one of --secret-stdin, --generate-secret and --public")
	}
	switch {
	case *secretStdin:
		if c.Secret, err = readSecret(e.stdin, "client secret"); err != nil {
			return err
		}
	case *generate:
		c.Secret, c.SecretGenerated = password.GenerateSecret(), true
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs, c.GrantTypes, c.Scopes = redirects, logouts, grants, scopes
	for _, r := range roles {
		c.AdmitRoles = append(c.AdmitRoles, storage.Role(r))
	}
	for _, t := range types {
		c.AdmitTypes = append(c.AdmitTypes, storage.UserType(t))
	}
	store, _, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	out, err := clients.Register(ctx, store, password.NewHasher(), c)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("client id %q already in use", c.ID)
	} else if err != nil {
		return err
	}
	kind := "confidential"
	if out.Public {
		kind = "public"
	}
	mfa := ""
	if out.RequireMFA {
		mfa = ", two factors required"
	}
	fmt.Fprintf(e.stdout, "registered %s client %s (sign-in: %s%s)\n", kind, out.ID, out.SignInMethod, mfa)
	if c.SecretGenerated {
		fmt.Fprintf(e.stdout, "client secret (shown only now): %s\n", c.Secret)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func clientList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "client list")
	cfg, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.ListClients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSIGN-IN\tGRANTS\tREDIRECT URIS\tADMITS")
	for _, c := range list {
		kind := "confidential"
		if c.Public {
			kind = "public"
		}
		var admits []string
		for _, r := range c.AdmitRoles {
			admits = append(admits, string(r))
		}
		for _, t := range c.AdmitTypes {
			admits = append(admits, string(t))
		}
		if len(admits) == 0 {
			admits = []string{"everyone"}
		}
		method := c.SignInMethod
		if method == "" {
			method = storage.SignInEmail
		}
		if c.RequireMFA {
			method += "+mfa"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, kind, method, strings.Join(c.GrantTypes, ","), strings.Join(c.RedirectURIs, " "), strings.Join(admits, ","))
	}
	return tw.Flush()
}
