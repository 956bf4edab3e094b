// Package adminapi serves the admin API, REST + JSON under /admin/v1: the
// route table (api.go), bearer-token authentication against this
// provider's keys and token records (auth.go), one error writer with the
// stable codes of the shared contract (errors.go), and one file per
// resource action. Every handler decodes, authorizes with package authz,
// runs its use case and responds; every change is written together with
// its audit entry in one store transaction.
//
// The contract — types, error codes, permission names, the typed client
// and the OpenAPI document — is github.com/cliniconnects/identity/shared/adminapi
// (imported here as api).
package adminapi
