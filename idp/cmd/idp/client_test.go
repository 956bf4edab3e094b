package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
)

// TestClientAddGenerateSecret: --generate-secret prints a 256-bit secret
// once and stores its SHA-256 form; --secret-stdin (an operator's choice)
// keeps argon2id; exactly one of the secret flags and --public is needed.
func TestClientAddGenerateSecret(t *testing.T) {
	c := newCLI(t)
	code, out, errs := c.run("", "client", "add", "--id", "billing", "--generate-secret", "--redirect-uri", "https://billing.example.com/cb")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	m := regexp.MustCompile(`client secret \(shown only now\): ([A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated secret in %q", out)
	}
	if strings.Contains(errs, m[1]) {
		t.Fatal("the secret went to the log")
	}
	secret := "an operator typed this one, long enough"
	if code, out, errs := c.run(secret+"\n", "client", "add", "--id", "typed", "--secret-stdin", "--redirect-uri", "https://typed.example.com/cb"); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, args := range [][]string{
		{"--generate-secret", "--public"},
		{"--generate-secret", "--secret-stdin"},
		{},
	} {
		code, _, errs := c.run(secret+"\n", append([]string{"client", "add", "--id", "x", "--redirect-uri", "https://x.example.com/cb"}, args...)...)
		if code == 0 || !strings.Contains(errs, "exactly one of --secret-stdin, --generate-secret and --public") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}

	st, err := sqlstore.Open(context.Background(), filepath.Join(c.env["IDP_DATA_DIR"], "idp.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen, err := st.GetClient(context.Background(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	if !password.IsGeneratedHash(gen.SecretHash) {
		t.Errorf("generated secret stored as %.10s…, want the SHA-256 form", gen.SecretHash)
	}
	if ok, err := password.NewHasher().VerifySecret(m[1], gen.SecretHash); !ok || err != nil {
		t.Errorf("printed secret does not verify: %v %v", ok, err)
	}
	typed, err := st.GetClient(context.Background(), "typed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(typed.SecretHash, "$argon2id$") {
		t.Errorf("typed secret stored as %.10s…, want argon2id", typed.SecretHash)
	}
}
