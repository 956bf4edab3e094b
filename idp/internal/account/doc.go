// Package account is the one writer of user records. It owns validation of
// what an operator or admin enters (email, phone in E.164, names, type,
// roles, password policy); creation (CreateUser, Invite, InviteUser); every
// change an administrator makes (EditUser, DisableUser, SendInvitation,
// SendPasswordReset); and the account lifecycle by email — accepting an
// invitation (AcceptInvitation, ResendExpiredInvitation), forgot password
// (RequestPasswordReset, ResetPassword), change of password and of login
// email (ChangePassword, RequestEmailChange, ConfirmEmailChange), a
// user's own name (ChangeName) and signing out everywhere. The CLI, the
// account pages and the admin API call these; none of them write users.
//
// Each change commits in one transaction with everything it entails: the
// audit entry (Actor: who, from which address), the emails (queued in the
// outbox, delivered later), and, when the change must end what was granted
// before — a password reset or change, signing out everywhere, disabling,
// any change of the email — the revocation of every session, refresh token
// and access token of the user and of every open link of theirs
// (storage.Storage.RevokeUserGrants). An administrator's change of the
// email also tells the old address.
//
// Links carry a one-time secret of 256 bits from crypto/rand, base64url;
// the store keeps only its SHA-256. A link is bound to one user, one
// purpose and the address it was mailed to: an invitation or reset works
// only while that address is still the user's email (so it verifies only
// an address that received it), an email change only while the user's
// email is still the one it was requested from. A link works once,
// expires, and a newer link of the same purpose voids the older ones.
// Links are built from the configured issuer, never from a request. Every
// use case that takes a link changes nothing when the link cannot be used:
// ErrInvalidLink (unknown, altered, expired, replaced or voided, for
// another address), ErrLinkUsed.
//
// A password reset request answers the same, in about the same time,
// whether or not the address has an account; nothing is sent for unknown,
// invited (they use their invitation) or disabled users. Reset requests are
// throttled per address and per source; wrong current passwords on the
// account page per user. A request to change the login email answers the
// same whether or not another account uses the new address: that
// address's owner is told by email instead of receiving a link.
//
// Mobile (mobile*.go) holds clinicians' phone-linked mobile credentials:
// activation by SMS code (RequestActivationCode, VerifyActivationCode,
// SetPIN), sign-in by number and PIN (AuthenticatePIN), the phone change
// the credential follows (RequestPhoneChange, ConfirmPhoneChange, and
// PhoneChangedTx for an admin's change), the admin operations
// (MobileStatus, SendActivationTx, ResetMobileTx, EndMobileSessionsTx),
// and the account page's list of sign-ins (SignIns, EndSignIn).
package account
