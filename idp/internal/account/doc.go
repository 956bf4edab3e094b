// Package account owns the use cases that create and change user records:
// validation of what an operator or admin enters (email, phone in E.164,
// names, type, roles, password policy), creation, and disabling; and the
// account lifecycle by email — invitations (Invite, ResendInvitation,
// AcceptInvitation), forgot password (RequestPasswordReset, ResetPassword),
// change of password and of login email (ChangePassword,
// RequestEmailChange, ConfirmEmailChange) and signing out everywhere. The
// CLI, the sign-in and account pages and the admin API call these; none of
// them write users directly.
//
// Links carry a one-time secret of 256 bits from crypto/rand, base64url;
// the store keeps only its SHA-256. A link is bound to one user and one
// purpose, works once, expires, and a newer link of the same purpose voids
// the older ones. Links are built from the configured issuer, never from a
// request. Every change and the emails it causes commit in one transaction
// (the outbox delivers them later), and every use case that takes a link
// changes nothing when the link cannot be used: ErrInvalidLink (unknown,
// altered, expired, replaced), ErrLinkUsed.
//
// A password reset request answers the same, in about the same time,
// whether or not the address has an account; nothing is sent for unknown,
// invited (they use their invitation) or disabled users. Reset requests are
// throttled per address and per source; wrong current passwords on the
// account page per user.
//
// SendInvitationTx and SendPasswordResetTx are the building blocks of the
// invitation and reset use cases: a new link and its queued email in the
// caller's transaction, without an audit entry, throttle or timing floor.
// The use cases here add those; the admin API runs them in its own
// transaction and writes its own audit entry, with the admin as actor.
package account
