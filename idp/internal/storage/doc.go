// Package storage owns the provider's persistent state: the domain types
// (users, OIDC clients, authorization requests, browser sessions, tokens,
// signing keys, sign-in throttles, one-time link tokens, the outbox of
// emails and SMS, the audit log) and the one Storage interface that every
// backend implements. Backends live in subpackages and import only this
// package; the conformance suite in storagetest holds them to one behaviour.
package storage
