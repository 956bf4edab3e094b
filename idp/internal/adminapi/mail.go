package adminapi

import (
	"context"
	"errors"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// AccountMailer sends invitations and password resets through the account
// use cases (the same ones the sign-in pages use), run on the admin API's
// transaction: a copy of the service whose store is tx joins it, so the
// link, the queued email, the change and its audit entry commit together.
type AccountMailer struct {
	Accounts *account.Service
}

// SendInvitation issues a new invitation (account.ResendInvitation): the
// earlier links stop working.
func (m AccountMailer) SendInvitation(ctx context.Context, tx storage.Storage, u storage.User) error {
	svc := m.joined(tx)
	err := svc.ResendInvitation(ctx, u.ID)
	if errors.Is(err, account.ErrNotInvited) {
		return apiErr(api.CodeInvalidState, "the user has already accepted an invitation; send a password reset instead")
	}
	return err
}

// SendPasswordReset queues a reset link for an active user
// (account.RequestPasswordReset, counted against the address's limit).
// Its timing floor, which hides from anonymous callers whether an address
// has an account, does not apply: the admin already knows, and the
// transaction must stay short.
func (m AccountMailer) SendPasswordReset(ctx context.Context, tx storage.Storage, u storage.User) error {
	svc := m.joined(tx)
	svc.ResetFloor = time.Nanosecond
	err := svc.RequestPasswordReset(ctx, u.Email, "")
	if errors.Is(err, account.ErrThrottled) {
		return apiErr(api.CodeRateLimited, "too many password reset emails for this address; try again later")
	}
	return err
}

// Queued wakes the delivery worker (account.Service.Queued).
func (m AccountMailer) Queued() {
	if m.Accounts.Queued != nil {
		m.Accounts.Queued()
	}
}

// joined is a copy of the service on tx. Its Queued hook is dropped: it
// would fire before tx commits; the handler calls Queued after.
func (m AccountMailer) joined(tx storage.Storage) *account.Service {
	svc := *m.Accounts
	svc.Store = tx
	svc.Queued = nil
	return &svc
}
