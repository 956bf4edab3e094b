// Package mfa owns the mechanics of the second sign-in factor, without
// storage or policy: TOTP codes (RFC 6238 with the parameters every
// authenticator app supports: HMAC-SHA1, 6 digits, 30-second steps), the
// otpauth:// URI and its QR code, one step of clock skew with the matching
// step reported so the caller can refuse a replay; recovery codes (10 per
// user, 50 random bits each, single use); and the keys derived from the
// key-encryption key that seal TOTP secrets at rest (AES-GCM, bound to the
// user id) and key the recovery-code hashes (HMAC-SHA-256), so that a copy
// of the database alone yields neither secrets nor codes.
//
// Codes are compared in constant time. The account package runs the use
// cases (enrolment, sign-in check, removal, reset) on top of this.
package mfa
