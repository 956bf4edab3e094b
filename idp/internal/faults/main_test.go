package faults

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/clients"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// build is the idp binary, built once per test binary.
var build struct {
	once      sync.Once
	dir, path string
	err       error
}

// idpBinary builds `idp` (once) and returns its path.
func idpBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "faults-idp-")
		if build.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			build.path, build.err = testenv.BuildIDP(ctx, build.dir)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// fixture is what the tests sign in with: a confidential client with a
// generated secret (the refresh_token grant) and an employee.
type fixture struct {
	clientID, secret, redirectURI string
	email, password               string
}

// userHasher keeps argon2id (the stored hash names its parameters, so
// `idp serve` verifies with these) but cheap: the tests sign in eight
// times and are about faults, not hashing.
var userHasher = password.Hasher{Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}

// seed migrates the database at dsn and registers the fixture in it,
// before any provider runs on it.
func seed(t *testing.T, dsn string) fixture {
	t.Helper()
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	f := fixture{clientID: "faults-rp", secret: password.GenerateSecret(), redirectURI: "https://rp.faults.example/callback",
		email: "faults@faults.example", password: "correct horse battery staple " + randomHex(4)}
	secretHash, err := clients.HashSecret(userHasher, f.secret, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateClient(ctx, storage.Client{ID: f.clientID, Name: "faults relying party", SecretHash: secretHash,
		RedirectURIs: []string{f.redirectURI},
		GrantTypes:   []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}}); err != nil {
		t.Fatalf("create client: %v", err)
	}
	pw, err := userHasher.Hash(f.password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, storage.User{Type: storage.UserTypeEmployee, GivenName: "Fault", FamilyName: "Tolerant",
		Email: f.email, EmailVerified: true, Status: storage.StatusActive, PasswordHash: pw}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return f
}

// serveEnv is the configuration every provider of these tests gets beside
// its database: serve's defaults (the refresh reuse window among them),
// with warnings and errors logged (the log is shown when a test fails).
func serveEnv(extra ...string) []string {
	return append([]string{"IDP_LOG_LEVEL=warn"}, extra...)
}

// logRequestErrors logs, once t has failed, the lines of the provider's
// log that say why a request failed (zitadel/oidc's "request error"), for
// the failures the clients saw; the log's tail is mostly the storage
// errors of the outage itself.
func logRequestErrors(t *testing.T, c *testenv.IDP) {
	t.Helper()
	if !t.Failed() {
		return
	}
	b, err := os.ReadFile(c.Log)
	if err != nil {
		return
	}
	var lines []string
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, `msg="request error"`) && !strings.Contains(line, "context canceled") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	t.Logf("request errors in the log of idp serve on %s:\n%s", c.Addr, strings.Join(lines, "\n"))
}

// newKEK is a key-encryption key as IDP_SECRET_KEY takes it.
func newKEK() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// oneLine squeezes an error's text onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
