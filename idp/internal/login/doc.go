// Package login owns the provider's server-rendered sign-in pages: the
// email + password form that finishes an OIDC authorization request, the
// generic error page, and the "signed out" page, with their templates and
// stylesheet embedded in the binary.
//
// The handlers are thin: they decode the request, call the sign-in use case
// (package signin) and the browser session (package session), and render.
// Authentication rules live in signin; this package decides only what the
// browser sees. Every user-facing text is a fixed string from this package;
// errors go to the log, never into a page.
//
// Pages use no JavaScript and no inline style, so they work under
// Content-Security-Policy "default-src 'none'; style-src 'self'" (the
// server sets it; no form-action, so the redirect back to a native app's
// private-use scheme is not blocked). State-changing
// requests are protected against cross-site request forgery by
// http.CrossOriginProtection (Sec-Fetch-Site / Origin checks).
package login
