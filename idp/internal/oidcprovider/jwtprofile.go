package oidcprovider

import (
	"context"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

var errJWTProfile = errors.New("JWT profile grants and private_key_jwt are not supported")

// GetKeyByIDAndClientID would serve private_key_jwt and the JWT bearer
// grant, which we do not offer (the token route refuses the grant before op
// sees it).
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errJWTProfile
}

// ValidateJWTProfileScopes: see GetKeyByIDAndClientID.
func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errJWTProfile
}
