package oidcprovider

import (
	"context"
	"crypto"
	"errors"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k jose.JSONWebKey }

func (k *publicKey) ID() string { return k.k.KeyID }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k *publicKey) Use() string { return k.k.Use }
func (k *publicKey) Key() any    { return k.k.Key }

// op asks SigningKey for the key of every token it signs: the JWT access
// token (op.CreateJWT: GetPrivateClaimsFromRequest, then SigningKey) and
// the ID token (op.CreateIDToken, which also takes at_hash and c_hash from
// the key's algorithm). Access tokens get their own ES256 key: the token
// endpoint puts a tokenSlot in the request context, our
// GetPrivateClaimsFromRequest marks it, and the SigningKey call that
// follows, the access token's, takes the mark. Without a slot (op signing
// outside the token endpoint) every token gets the ID token key, and an
// access token signed with it does not verify: that fails closed.
//
// The slot also keeps the user record the request read first: one token
// response reads it up to three times (checkUser, the access token's and
// the ID token's claims), and one snapshot serves them all.
type tokenSlot struct {
	accessNext bool
	user       *storage.User
}

type tokenSlotKey struct{}

// withTokenSlot returns ctx with an empty slot for one token response.
func withTokenSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, tokenSlotKey{}, &tokenSlot{})
}

// markAccessToken notes that op is about to sign an access token.
func markAccessToken(ctx context.Context) {
	if s, ok := ctx.Value(tokenSlotKey{}).(*tokenSlot); ok {
		s.accessNext = true
	}
}

// takeAccessMark reports whether this signature is an access token's and
// clears the mark.
func takeAccessMark(ctx context.Context) bool {
	s, ok := ctx.Value(tokenSlotKey{}).(*tokenSlot)
	if !ok || !s.accessNext {
		return false
	}
	s.accessNext = false
	return true
}

// user reads user id, once per token response.
func (s *Storage) user(ctx context.Context, id string) (storage.User, error) {
	slot, _ := ctx.Value(tokenSlotKey{}).(*tokenSlot)
	if slot != nil && slot.user != nil && slot.user.ID == id {
		return *slot.user, nil
	}
	u, err := s.store.GetUser(ctx, id)
	if err == nil && slot != nil {
		slot.user = &u
	}
	return u, err
}

// SigningKey returns the key every replica signs with now: the access
// token key right after GetPrivateClaimsFromRequest, else the ID token key.
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	m := s.keys.ID
	if takeAccessMark(ctx) {
		m = s.keys.Access
	}
	meta, priv, err := m.Signing(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "no usable signing key", "err", err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &signingKey{id: meta.ID, alg: jose.SignatureAlgorithm(meta.Algorithm), key: priv}, nil
}

// SignatureAlgorithms is what ID tokens are signed with (discovery's
// id_token_signing_alg_values_supported): RS256.
func (s *Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{keys.RS256}, nil
}

// KeySet publishes the current, next and previous public keys of ID
// tokens and of access tokens, each with its alg.
func (s *Storage) KeySet(ctx context.Context) ([]op.Key, error) {
	pub, err := s.keys.Public(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "listing public keys", "err", err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	out := make([]op.Key, len(pub))
	for i := range pub {
		out[i] = &publicKey{k: pub[i]}
	}
	return out, nil
}

// jwks serves the JWKS (PathKeys) as op.Keys would serve KeySet, from
// the bytes keys.Set.JWKS keeps until the published keys change, instead of
// encoding four keys (two RSA moduli) on every request.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	body, err := p.cfg.Keys.JWKS(r.Context())
	if err != nil {
		p.logger().ErrorContext(r.Context(), "listing public keys", "err", err)
		httphelper.MarshalJSONWithStatus(w, oidc.ErrServerError().WithParent(err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// accessKeySet verifies access tokens for op (userinfo, revocation) with
// the access token keys alone (keys.Set.VerifyAccessToken, which the
// introspection handler calls itself).
type accessKeySet struct{ keys *keys.Set }

var _ oidc.KeySet = accessKeySet{}

func (a accessKeySet) VerifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	payload, err := a.keys.VerifyAccessToken(ctx, jws)
	if err != nil && !errors.Is(err, keys.ErrUnknownKey) && !errors.Is(err, keys.ErrBadSignature) {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return payload, err
}
