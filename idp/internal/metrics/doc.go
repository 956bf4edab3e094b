// Package metrics owns the provider's Prometheus registry and its metric
// families (all named idp_*), and the handler that serves them with Go's
// pprof on the private metrics listener (IDP_METRICS_LISTEN).
//
// The other packages stay free of Prometheus: they expose narrow hooks (a
// func field, or a method a scrape reads) and the server wires them to a
// *Metrics. Labels are few and fixed: an endpoint is a ServeMux pattern or
// a fixed name, never a raw path.
//
// Families: HTTP requests (count and latency per endpoint and status),
// sign-in outcomes, tokens issued, refresh retries and family revocations,
// the password hashing bound (process-wide: waiters, slots in use, wait
// time, ErrBusy), database pool and query errors, the outbox backlog and
// the signing key's age. The last three are read when Prometheus scrapes,
// each bounded by ScrapeTimeout.
package metrics
