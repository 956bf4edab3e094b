// Package adminapi is the contract of the CliniConnects Identity admin API
// (REST + JSON under /admin/v1): the request and response types, the stable
// error codes, the permission names, the audit action names, a typed Go
// client and the OpenAPI 3 document the server publishes at
// /admin/v1/openapi.json.
//
// The server (idp) and the desktop admin app both import this package; it
// imports only the standard library, so neither adds to the other's build.
package adminapi

// Version is the version of the admin API contract described here.
const Version = "v1"

// BasePath is where the admin API is served, relative to the issuer.
const BasePath = "/admin/v1"

// Audience is the aud that access tokens for the admin API carry: the
// provider's issuer followed by BasePath.
func Audience(issuer string) string { return issuer + BasePath }

// Scope is the OAuth scope an access token must carry for the admin API.
const Scope = "admin"

// DesktopClientID is the built-in public client of the desktop admin app.
const DesktopClientID = "cliniconnects-admin"
