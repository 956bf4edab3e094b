// Package migrations holds the provider's schema as numbered goose SQL files,
// one folder per dialect (postgres/, sqlite/), embedded so the binary carries
// them. The numbers move in lockstep: one change is one number in both
// folders, and a released file is never edited.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

// FS holds both dialect folders.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

// Dialects names the folders in FS.
var Dialects = []string{"postgres", "sqlite"}

// Dialect returns the migrations of one dialect ("postgres" or "sqlite") with
// the numbered files at its root, as goose expects them.
func Dialect(name string) (fs.FS, error) {
	switch name {
	case "postgres", "sqlite":
		return fs.Sub(FS, name)
	}
	return nil, fmt.Errorf("migrations: unknown dialect %q (want postgres or sqlite)", name)
}
