// Package adminapi is the contract of the admin API: types, error codes, permission names and a typed client.
package adminapi
