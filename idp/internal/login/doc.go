// Package login owns the provider's server-rendered pages: the email +
// password form that finishes an OIDC authorization request (or, without
// one, signs in to the account page), the generic error page, the "signed
// out" page, and the account pages RegisterAccount mounts — forgot
// password, reset, invitation, /account (password, login email, sign out
// everywhere) and email change confirmation — with their templates and
// stylesheet embedded in the binary. A link from an email that cannot be
// used gets a page saying why and how to get a new one (400 or 410), and
// changes nothing; GET on a link never changes anything either.
//
// RegisterPhone mounts the phone sign-in pages of clients whose sign-in
// method is phone (mobile number and PIN; activation by SMS code, then a
// PIN) and the account pages for the name, the mobile number and the list
// of sign-ins. A browser session answers only clients of the method it
// was signed in with (sessionServes), and only an email session opens the
// account pages.
//
// The handlers are thin: they decode the request, call the use cases
// (packages signin and account) and the browser session (package
// session), and render.
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
