package oidcprovider

import (
	"context"
	"crypto/rsa"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/keys"
)

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k jose.JSONWebKey }

func (k *publicKey) ID() string { return k.k.KeyID }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k *publicKey) Use() string { return k.k.Use }
func (k *publicKey) Key() any    { return k.k.Key }

// SigningKey returns the key every replica signs with now.
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	meta, priv, err := s.keys.Signing(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "no usable signing key", "err", err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &signingKey{id: meta.ID, key: priv}, nil
}

// SignatureAlgorithms lists RS256 only.
func (s *Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{keys.Algorithm}, nil
}

// KeySet publishes the current, next and previous public keys.
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
