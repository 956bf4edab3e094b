// Package clients owns the registration of OIDC clients (the CliniConnects
// modules): validation of ids, redirect URIs, grants and admission rules,
// and hashing of client secrets.
package clients
