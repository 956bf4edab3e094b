package keys

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrBadSignature: a token's signature does not verify with the key it
// names, or names a key that may not sign its kind of token.
var ErrBadSignature = errors.New("keys: bad signature")

// DefaultVerifiedCache bounds how many verified access token signatures a
// Set remembers.
const DefaultVerifiedCache = 10_000

// Set is the provider's signing keys: ID tokens (and everything else op
// signs) with the RS256 keys of ID, access tokens with the ES256 keys of
// Access. Both Managers share one store and rotate on the same schedule;
// the JWKS publishes both, each key with its alg.
type Set struct {
	ID     *Manager // Algorithm RS256
	Access *Manager // Algorithm ES256
	// VerifiedCache bounds the verified-signature cache; 0 means
	// DefaultVerifiedCache, a negative value turns it off.
	VerifiedCache int

	mu sync.Mutex
	// verified remembers tokens whose signature verified: the SHA-256 of
	// the key id and the token's exact signed form, to the payload. It
	// saves only the signature arithmetic: whether the key is still
	// published is checked on every call, and callers check expiry and
	// the token's state in the store (revocation) on every request.
	verified map[[32]byte][]byte // guarded by mu

	// jwks is the last JWKS document made (JWKS); it is reused while the
	// keys it was made from are the ones published.
	jwks atomic.Pointer[jwksDoc]
}

// Ensure runs Ensure on both Managers.
func (s *Set) Ensure(ctx context.Context) error {
	if err := s.Access.Ensure(ctx); err != nil {
		return err
	}
	return s.ID.Ensure(ctx)
}

// Rotate rotates both Managers and returns the key ids that sign now.
func (s *Set) Rotate(ctx context.Context) (idKID, accessKID string, err error) {
	if idKID, err = s.ID.Rotate(ctx); err != nil {
		return "", "", err
	}
	if accessKID, err = s.Access.Rotate(ctx); err != nil {
		return "", "", err
	}
	return idKID, accessKID, nil
}

// Public is the JWKS: both Managers' published keys.
func (s *Set) Public(ctx context.Context) ([]jose.JSONWebKey, error) {
	id, err := s.ID.Public(ctx)
	if err != nil {
		return nil, err
	}
	access, err := s.Access.Public(ctx)
	if err != nil {
		return nil, err
	}
	return append(id, access...), nil
}

// VerifyAccessToken checks the signature of an access token and returns
// its payload. The key must be a published access token key (ES256) and
// the header's alg its own. An ID token key (RS256) verifies only access
// tokens issued before access tokens had keys of their own (an upgrade):
// iat before the first access token key's activation, which still
// unexpired tokens can have only within a token lifetime of the upgrade.
// Anything else an ID token key signed is an ID token, whatever its claims
// say. Errors: ErrUnknownKey, ErrBadSignature, or the store's.
func (s *Set) VerifyAccessToken(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, ErrBadSignature
	}
	h := jws.Signatures[0].Header
	e, err := s.Access.lookup(ctx, h.KeyID)
	if errors.Is(err, ErrUnknownKey) {
		return s.verifyLegacy(ctx, jws)
	}
	if err != nil {
		return nil, err
	}
	if h.Algorithm != e.meta.Algorithm {
		return nil, fmt.Errorf("%w: alg %q with a %s key", ErrBadSignature, h.Algorithm, e.meta.Algorithm)
	}
	sum, cacheable := s.cacheKey(jws)
	if cacheable {
		if payload, ok := s.cached(sum); ok {
			return payload, nil
		}
	}
	payload, err := jws.Verify(e.pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if cacheable {
		s.remember(sum, payload)
	}
	return payload, nil
}

// verifyLegacy verifies an access token signed by an ID token key before
// the first access token key activated (see VerifyAccessToken).
func (s *Set) verifyLegacy(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	h := jws.Signatures[0].Header
	e, err := s.ID.lookup(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	cutover, err := s.Access.firstActivation(ctx)
	if err != nil {
		return nil, err
	}
	if h.Algorithm != e.meta.Algorithm || cutover.IsZero() {
		return nil, fmt.Errorf("%w: %s is an ID token key", ErrBadSignature, h.KeyID)
	}
	signed, err := jws.Verify(e.pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	var claims struct {
		IssuedAt int64 `json:"iat"`
	}
	if err := json.Unmarshal(signed, &claims); err != nil || claims.IssuedAt <= 0 ||
		!time.Unix(claims.IssuedAt, 0).Before(cutover) {
		return nil, fmt.Errorf("%w: signed by ID token key %s after access tokens got their own", ErrBadSignature, h.KeyID)
	}
	return signed, nil
}

// cacheKey is the verified cache's key for jws: the SHA-256 of its key id
// and its compact form (header, payload and signature as they stand).
func (s *Set) cacheKey(jws *jose.JSONWebSignature) ([32]byte, bool) {
	if s.VerifiedCache < 0 {
		return [32]byte{}, false
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(jws.Signatures[0].Header.KeyID + "\x00" + compact)), true
}

func (s *Set) cached(sum [32]byte) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.verified[sum]
	return p, ok
}

// remember adds a verified signature; a full cache starts over, which
// bounds its memory without bookkeeping per entry.
func (s *Set) remember(sum [32]byte, payload []byte) {
	limit := s.VerifiedCache
	if limit == 0 {
		limit = DefaultVerifiedCache
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verified == nil || len(s.verified) >= limit {
		s.verified = make(map[[32]byte][]byte, min(limit, 1024))
	}
	s.verified[sum] = payload
}
