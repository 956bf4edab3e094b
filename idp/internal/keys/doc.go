// Package keys owns the provider's key material: the key-encryption key
// (KEK) that protects secrets at rest, and the RS256 token signing keys that
// are stored encrypted in the database, rotated on a schedule, and published
// in the JWKS from before they first sign until after everything they signed
// has expired.
package keys
