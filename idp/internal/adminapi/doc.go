// Package adminapi serves the admin API, REST + JSON under /admin/v1: the
// route table (api.go), bearer-token authentication against this
// provider's keys and token records (auth.go), one error writer with the
// stable codes of the shared contract (errors.go), and one file per
// resource action. Before a route reads anything of the request, the
// caller must hold one of the route's permissions (Route.Perms): a role
// that may not use a route gets 403 whatever it sends. Every handler then
// decodes, authorizes against the record with package authz, runs its use
// case and responds. Users are changed only through package account (the
// admin API passes its checks into account's transaction); clients here;
// every change is written together with its audit entry in one store
// transaction.
//
// The contract — types, error codes, permission names, the typed client
// and the OpenAPI document — is github.com/cliniconnects/identity/shared/adminapi
// (imported here as api).
package adminapi
