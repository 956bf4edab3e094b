// Package health owns the liveness (/healthz) and readiness (/readyz)
// endpoints.
package health
