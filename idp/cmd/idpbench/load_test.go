package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestLoadTable runs issue 11's CPU table briefly against the real `idp
// serve` on SQLite: every operation ran with no error, the child's CPU was
// read, and the keys it publishes are serve's defaults (RS256 RSA-2048 for
// ID tokens, ES256 P-256 for access tokens). It checks what was measured,
// never how fast.
func TestLoadTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts idp serve")
	}
	idp, err := testenv.BuildIDP(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := options{idp: idp, load: time.Second}
	r, err := runLoad(t.Context(), "sqlite", o, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printLoad(&out, "sqlite", r, o.load)
	t.Logf("\n%s", out.String())
	if !slices.Contains(r.Keys, "RS256 RSA-2048 (2 published)") || !slices.Contains(r.Keys, "ES256 P-256 (2 published)") {
		t.Errorf("the child publishes %v, want RS256 RSA-2048 and ES256 P-256 keys", r.Keys)
	}
	var ops []string
	for _, res := range r.Results {
		ops = append(ops, res.Op)
		if res.N == 0 || res.Errors != 0 || res.ServerCPUms <= 0 && res.Op != "signin" {
			t.Errorf("%s: %+v", res.Op, res)
		}
		if res.Op == "signin" && (res.HashCPUms <= 0 || res.HashShare <= 0 || res.HashShare >= 1) {
			t.Errorf("sign-in: argon2id's share of the profile not measured: %+v", res)
		}
		if res.CollectorCPUms < 0 || res.CollectorCPUms > res.ServerCPUms {
			t.Errorf("%s: the collector's share is not a part of the rest: %+v", res.Op, res)
		}
	}
	if want := []string{"refresh", "userinfo", "introspection", "signin", "discovery+jwks"}; !slices.Equal(ops, want) {
		t.Errorf("operations %v, want %v", ops, want)
	}
	for _, s := range []string{"Dex", "before", "target", "minus", "argon2id", "collector"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the table lacks %q", s)
		}
	}
}
