// Package idptest runs the real provider for the admin app's tests and its
// screenshot tool: it builds the idp binary from this repository, starts
// `idp serve` on SQLite in a temporary directory with an SMTP server in
// this process (emersion/go-smtp) as its mail server and an HTTP webhook
// in this process as its SMS gateway (SMSBox), seeds users with the
// `idp user add` CLI, and plays the system browser (Browser): an HTTP
// client with a cookie jar that completes the provider's real sign-in
// form.
//
// The admin app's module may not import the idp module, so the provider
// runs as a subprocess and is talked to only over HTTP and its CLI.
package idptest
