// Package server assembles the provider's HTTP handler: it wires the store,
// password hashing, signing keys (keys.Set: ensured at start, kept
// rotating by a background loop), browser sessions, sign-in throttling, the
// sign-in pages and the OIDC provider, and mounts them with the health
// endpoints on one ServeMux behind the security headers every response
// carries. It caps every request body but the admin API's at MaxBodyBytes
// (64 KiB) and bounds the requests that work for unknown callers
// (Admission: a few at once, a short queue, then 503), so that discovery,
// keys, userinfo and health keep answering under a flood.
//
// With IDP_METRICS_LISTEN set it also serves Prometheus /metrics and Go's
// pprof on that private listener (metrics.Handler), never on the public
// one, counts every request by route and status, and wires the metrics
// hooks of sign-in, tokens, hashing and storage (metrics.go).
//
// Routes: /healthz, /readyz (health); /login, /logged-out, /static/
// (login); everything else goes to the OIDC provider (discovery, /keys,
// /authorize, /authorize/callback, /oauth/token, /oauth/introspect,
// /userinfo, /revoke, /end_session).
package server
