package adminapi

import (
	"context"
	"errors"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// AccountMailer sends invitations and password resets with the account
// package's transaction-scoped building blocks (account.SendInvitationTx,
// account.SendPasswordResetTx), on the admin API's transaction: the link,
// the queued email, the change and the admin API's own audit entry (with
// the actor and source address) commit together. They write no audit entry
// of their own, and they neither throttle nor wait: the caller is an
// authenticated admin whose every request is audited.
type AccountMailer struct {
	Accounts *account.Service
}

// SendInvitation issues a new invitation: the earlier links stop working.
func (m AccountMailer) SendInvitation(ctx context.Context, tx storage.Storage, u storage.User) error {
	err := m.Accounts.SendInvitationTx(ctx, tx, u)
	if errors.Is(err, account.ErrNotInvited) {
		return apiErr(api.CodeInvalidState, "the user has already accepted an invitation; send a password reset instead")
	}
	return err
}

// SendPasswordReset queues a reset link for an active user. It is not
// counted against the per-address limit of anonymous reset requests
// (account.RequestPasswordReset), and takes no minimum time: the admin
// knows the account exists, and the request is authenticated and audited.
func (m AccountMailer) SendPasswordReset(ctx context.Context, tx storage.Storage, u storage.User) error {
	err := m.Accounts.SendPasswordResetTx(ctx, tx, u)
	if errors.Is(err, account.ErrNotActive) {
		return apiErr(api.CodeInvalidState, "the user is not active; only an active user can reset their password")
	}
	return err
}

// Queued wakes the delivery worker (account.Service.Queued); the handler
// calls it after its transaction has committed.
func (m AccountMailer) Queued() {
	if m.Accounts.Queued != nil {
		m.Accounts.Queued()
	}
}
