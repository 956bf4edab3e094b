// Package faults holds end-to-end fault tests of the real `idp serve`
// binary: the provider runs as child processes (testenv.StartIDP) on real
// databases while independent OIDC clients (golang.org/x/oauth2,
// github.com/coreos/go-oidc/v3) loop refresh and userinfo against it, and
// the test breaks something underneath — stops or restarts PostgreSQL,
// locks the SQLite file, SIGKILLs one of two replicas behind a proxy — and
// asserts what the clients saw: only successes and 503 with Retry-After
// (502 from the proxy for requests cut off by a kill), no refresh token and
// no session lost, and every client carrying on afterwards.
//
// The package has no code of its own; the tests run after the rest of
// `make test`, alone, as they load the machine for a minute.
package faults
