package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// mfaPerm is the permission that resets a second factor in s.
func (s *section) mfaPerm() api.Permission { return account.MFAPermission(s.typ) }

// actMFAReset is the audit action of a second-factor reset in s.
func (s *section) actMFAReset() string {
	if s.typ == storage.UserTypeClinician {
		return api.ActionClinicianMFAReset
	}
	return api.ActionEmployeeMFAReset
}

// resetMFA answers POST /{section}/{id}/mfa/reset: the user's
// authenticator app and recovery codes are removed, the user is emailed,
// and the reset is audited, in one transaction. Admins reset users ranking
// below them, super admins anyone (authz.Can with the section's mfa
// permission).
func (u userHandlers) resetMFA(w http.ResponseWriter, r *http.Request, c *call) {
	m := u.h.d.MFA
	if m == nil {
		u.h.fail(w, r, apiErr(api.CodeUnavailable, "two-step sign-in is not configured on this server"))
		return
	}
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		u.h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	var out storage.User
	err := u.h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		usr, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if err := u.h.reach(c, u.s, u.s.mfaPerm(), usr); err != nil {
			return err
		}
		err = m.ResetTx(ctx, tx, usr)
		if errors.Is(err, account.ErrMFANotEnabled) {
			return apiErr(api.CodeInvalidState, "the user has no authenticator app to reset")
		}
		if err != nil {
			return err
		}
		out = usr
		return c.audit(ctx, tx, u.h.d.Now(), u.s.actMFAReset(), targetTypeUser, id,
			map[string][2]any{"mfa": {string(api.MFAEnabled), string(api.MFANone)}})
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	if m.Queued != nil {
		m.Queued()
	}
	u.respond(w, r, http.StatusOK, out)
}

// apiUser is usr as the API shows it, with the state of its second factor.
func (h *Handler) apiUser(ctx context.Context, usr storage.User) (api.User, error) {
	out, err := h.apiUsers(ctx, []storage.User{usr})
	if err != nil {
		return api.User{}, err
	}
	return out[0], nil
}

// apiUsers is users as the API shows them, with the state of their second
// factors read in one query.
func (h *Handler) apiUsers(ctx context.Context, users []storage.User) ([]api.User, error) {
	ids := make([]string, len(users))
	for i, usr := range users {
		ids[i] = usr.ID
	}
	mfa, err := h.d.Store.MFAStatuses(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("adminapi: reading MFA states: %w", err)
	}
	out := make([]api.User, len(users))
	for i, usr := range users {
		out[i] = toAPIUser(usr)
		out[i].MFA = api.MFANone
		if st, ok := mfa[usr.ID]; ok {
			out[i].MFA, out[i].RecoveryCodesLeft = api.MFAEnabled, st.RecoveryCodesLeft
		}
	}
	return out, nil
}
