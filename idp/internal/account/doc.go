// Package account owns the use cases that create and change user records:
// validation of what an operator or admin enters (email, phone in E.164,
// names, type, roles, password policy), creation, and disabling. The CLI,
// the sign-in pages and the admin API call these; none of them write users
// directly.
package account
