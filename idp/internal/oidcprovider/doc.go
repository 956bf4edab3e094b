// Package oidcprovider is the OpenID Connect provider: it adapts our
// storage.Storage to zitadel/oidc's op.Storage (clients, authorization
// requests, codes, access and refresh tokens, claims, signing keys) and
// builds the op.Provider with the HTTP wrappers the library lacks
// (no-store token responses, WWW-Authenticate challenges, S256-only PKCE,
// error pages instead of redirects for unknown clients, RP-initiated logout,
// a discovery document that advertises only what works).
//
// Security decisions recorded here:
//   - Authorization codes are single use. AuthRequestByCode redeems the
//     code (store.RedeemCode) before the library checks PKCE and the client,
//     so a code presented with a wrong verifier or secret is burnt; a second
//     presentation revokes the token family the first one produced.
//   - Refresh tokens are opaque 256-bit values stored as SHA-256 hashes and
//     rotated on every use; a rotated token presented again revokes its
//     family.
//   - Access tokens are JWTs (RFC 9068 shape) whose jti is recorded, so
//     revocation, disabling a user and family revocation end them for
//     introspection and userinfo.
//   - Introspection is open to every authenticated confidential client (a
//     resource server is a confidential client and must be able to check
//     tokens issued to the front-end clients that call it); public clients
//     cannot authenticate and so cannot introspect. The endpoint is ours,
//     not op's (introspect.go): the caller is authenticated before the
//     token's signature is checked, a token that could not be checked is
//     never answered active:false, and the token parameter is taken once.
//   - Client secrets the provider generated are checked by SHA-256, older
//     and operator-chosen ones by argon2id under the process-wide hashing
//     bound; there is no cache of verified secrets. A secret that could not
//     be checked (bound full) is answered 503 temporarily_unavailable, never
//     invalid_client. Failed client authentication is counted per source
//     (ClientAuthKey); a throttled source presenting a secret gets 429
//     before anything is looked up or hashed (clientauth.go).
//   - /authorize refuses parameters it would store that are longer than
//     MaxParamBytes (2 KiB) with invalid_request.
package oidcprovider
