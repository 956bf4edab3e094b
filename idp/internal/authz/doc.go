// Package authz owns who may do what in the admin API: the one table from
// role to permission, the rank of roles, and the rules that limit a
// permission by its target — nobody acts on a user who holds a role at or
// above their own (super admins excepted), nobody grants a role above what
// they may assign, nobody disables or demotes themselves into a lock-out.
// It decides; it does not read the store. The handlers in adminapi ask it
// before every use case.
package authz
