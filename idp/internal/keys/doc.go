// Package keys owns the provider's key material: the key-encryption key
// (KEK) that protects secrets at rest, and the token signing keys — RS256
// for ID tokens, ES256 for access tokens (Set) — that are stored encrypted
// in the database, rotated on a schedule, and published in the JWKS from
// before they first sign until after everything they signed has expired.
package keys
