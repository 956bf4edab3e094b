package password

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Secrets the provider generates itself (client secrets) carry 256 random
// bits. Nobody can guess them, online or from a stolen hash, so a slow
// hash protects nothing that SHA-256 does not: they are stored as
// "$sha256$<base64 of the digest>" and checked with one SHA-256 and a
// constant-time comparison. Secrets a person chose (passwords, PINs, a
// client secret an operator typed) keep argon2id.
const (
	generatedBytes  = 32
	generatedPrefix = "$sha256$"
)

// ErrNotGenerated is returned by HashGenerated for a secret that is not
// the shape GenerateSecret makes.
var ErrNotGenerated = errors.New("password: not a generated secret (256 random bits, base64url)")

// GenerateSecret returns a new secret of 256 random bits, base64url
// without padding (43 characters).
func GenerateSecret() string {
	b := make([]byte, generatedBytes)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashGenerated is the stored form of a secret GenerateSecret made. It
// refuses anything else, so a secret a person chose can never end up
// behind a fast hash.
func HashGenerated(secret string) (string, error) {
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != generatedBytes {
		return "", ErrNotGenerated
	}
	sum := sha256.Sum256([]byte(secret))
	return generatedPrefix + b64.EncodeToString(sum[:]), nil
}

// IsGeneratedHash reports whether stored is HashGenerated's form.
func IsGeneratedHash(stored string) bool { return strings.HasPrefix(stored, generatedPrefix) }

// VerifySecret checks secret against stored, which is either
// HashGenerated's form (one SHA-256 and a constant-time comparison, no
// bound needed) or an argon2id PHC string (a full Verify under the
// process-wide bound, which may return ErrBusy).
func (h Hasher) VerifySecret(secret, stored string) (bool, error) {
	rest, ok := strings.CutPrefix(stored, generatedPrefix)
	if !ok {
		ok, _, err := h.Verify(secret, stored)
		return ok, err
	}
	want, err := decodeB64(rest)
	if err != nil || len(want) != sha256.Size {
		return false, fmt.Errorf("%w: generated secret digest", ErrMalformedHash)
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1, nil
}
