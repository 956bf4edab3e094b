// Package server assembles the provider's HTTP handler: it wires the store,
// password hashing, signing keys (keys.Manager: ensured at start, kept
// rotating by a background loop), browser sessions, sign-in throttling, the
// sign-in pages and the OIDC provider, and mounts them with the health
// endpoints on one ServeMux behind the security headers every response
// carries. It caps every request body but the admin API's at MaxBodyBytes
// (64 KiB) and bounds the requests that work for unknown callers
// (Admission: a few at once, a short queue, then 503), so that discovery,
// keys, userinfo and health keep answering under a flood.
//
// Routes: /healthz, /readyz (health); /login, /logged-out, /static/
// (login); everything else goes to the OIDC provider (discovery, /keys,
// /authorize, /authorize/callback, /oauth/token, /oauth/introspect,
// /userinfo, /revoke, /end_session).
package server
