package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/server"
)

func cmdKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("keys needs a subcommand: rotate")
	}
	cfg, err := parse(e, newFlags(e, "keys rotate"), args[1:])
	if err != nil {
		return err
	}
	store, logger, err := openStore(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	km, err := server.SigningKeys(server.Deps{Config: cfg, Store: store, Logger: logger, Now: nowFunc})
	if err != nil {
		return err
	}
	if err := km.Ensure(ctx); err != nil {
		return err
	}
	idKID, accessKID, err := km.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rotated: %s now signs ID tokens and %s access tokens; the previous keys stay published until their tokens expire\n", idKID, accessKID)
	return nil
}
