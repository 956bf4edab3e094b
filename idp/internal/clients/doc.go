// Package clients owns the registration of OIDC clients (the CliniConnects
// modules): validation of ids, redirect URIs, grants and admission rules,
// and hashing of client secrets: a SHA-256 digest for secrets the provider
// generated (256 random bits, password.GenerateSecret), argon2id for one an
// operator chose.
package clients
