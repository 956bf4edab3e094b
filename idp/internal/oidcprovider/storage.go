package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Compile-time checks: the optional op interfaces we rely on.
var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.ClientCredentialsStorage       = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*Storage)(nil)
)

// Storage implements op.Storage on top of storage.Storage.
type Storage struct {
	store storage.Storage
	keys  *keys.Set
	// hasher checks client secrets: generated ones by SHA-256, older and
	// operator-chosen ones by argon2id under the process-wide bound.
	hasher password.Hasher
	logger *slog.Logger
	now    func() time.Time

	// issuer builds client login URLs (issuer + "/login?authRequestID=").
	issuer             string
	authRequestTTL     time.Duration
	accessTokenTTL     time.Duration
	idTokenTTL         time.Duration
	refreshReuseWindow time.Duration
	refreshTokenTTL    time.Duration
	// observe is told the tokens issued and the families revoked.
	observe Observer
}

// Health reports whether the store is usable.
func (s *Storage) Health(ctx context.Context) error { return s.store.Ready(ctx) }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oidcprovider: crypto/rand failed: " + err.Error()) // never returns an error on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how codes and refresh tokens are stored: hex SHA-256. The
// values carry ≥128 bits of entropy, so a fast hash suffices.
func hashToken(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}
