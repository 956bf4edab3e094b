package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/keys"
)

// Keys are the keys derived from the key-encryption key for second
// factors: one seals TOTP secrets, one keys the recovery-code hashes. Every
// replica with the same KEK derives the same ones.
type Keys struct {
	seal [32]byte
	code [32]byte
}

// NewKeys derives the keys from kek (see keys.Derive).
func NewKeys(kek []byte) (*Keys, error) {
	seal, err := keys.Derive(kek, "totp-secret")
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	code, err := keys.Derive(kek, "recovery-code")
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	return &Keys{seal: seal, code: code}, nil
}

// secretAAD binds a sealed secret to its user: a sealed secret copied to
// another user's row does not open.
func secretAAD(userID string) []byte { return []byte("totp:" + userID) }

// Seal encrypts the TOTP secret of userID for storage (keys.Seal:
// AES-256-GCM).
func (k *Keys) Seal(userID string, secret []byte) ([]byte, error) {
	return keys.Seal(k.seal[:], secret, secretAAD(userID))
}

// Open decrypts what Seal sealed for userID; keys.ErrWrongKEK for anything
// else.
func (k *Keys) Open(userID string, sealed []byte) ([]byte, error) {
	return keys.Open(k.seal[:], sealed, secretAAD(userID))
}

// HashRecoveryCode is the stored form of userID's recovery code (as
// NormalizeRecoveryCode returns it): hex HMAC-SHA-256 under the derived
// key, bound to the user.
func (k *Keys) HashRecoveryCode(userID, normalized string) string {
	m := hmac.New(sha256.New, k.code[:])
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}
