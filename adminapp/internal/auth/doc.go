// Package auth signs the desktop admin app in to the provider as a native
// app (RFC 8252): authorization code with PKCE (S256), state and nonce, in
// the system browser, redirected to a one-shot listener on the loopback
// interface (http://127.0.0.1:{ephemeral port}/callback). The ID token is
// verified with go-oidc. Tokens live only in memory (Session): the access
// token is refreshed shortly before it expires, and SignOut revokes the
// refresh token, ends the provider's browser session (end_session) and
// forgets every token.
//
// The package knows nothing of Fyne: the browser is a func(*url.URL) error
// (Fyne's App.OpenURL in the app, an HTTP client in tests).
package auth
