package adminapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// The routes of clinicians' mobile credentials: GET
// /clinicians/{id}/mobile, POST …/mobile/activation, POST …/mobile/reset,
// DELETE …/mobile/sessions, under permission clinicians.mobile_credentials
// (admins and super admins; assigning managers never reach clinicians).
// The use cases are account.Mobile's; each change and its audit entry, with
// the admin as actor, commit together.

// errNoMobile: the server was built without the mobile use cases. Changing
// a clinician's phone is refused too: it must revoke their mobile sign-ins.
var errNoMobile = &apiError{code: api.CodeUnavailable, message: "mobile credentials are not configured on this server"}

// mobileErr turns the use cases' errors into the contract's.
func mobileErr(err error) error {
	switch {
	case errors.Is(err, account.ErrNotClinician):
		return &apiError{code: api.CodeInvalidState, message: "the clinician is not active or has no phone number", cause: err}
	case errors.Is(err, account.ErrSMSUnavailable):
		return &apiError{code: api.CodeUnavailable, message: "SMS cannot be sent: no SMS gateway is configured on this server", cause: err}
	}
	return err
}

// getMobile answers GET /clinicians/{id}/mobile.
func (h *Handler) getMobile(w http.ResponseWriter, r *http.Request, c *call) {
	if h.d.Mobile == nil {
		h.fail(w, r, errNoMobile)
		return
	}
	u, err := h.d.Store.GetUser(r.Context(), r.PathValue("id"))
	if err == nil {
		err = h.reach(c, h.clinicians, api.PermCliniciansMobile, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.respondMobile(w, r, u)
}

// sendMobileActivation answers POST /clinicians/{id}/mobile/activation: an
// activation code by SMS to the clinician's phone.
func (h *Handler) sendMobileActivation(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileActivation, func(m *account.Mobile) mobileOp { return m.SendActivationTx })
}

// resetMobile answers POST /clinicians/{id}/mobile/reset: the PIN is
// cleared and the mobile sessions end.
func (h *Handler) resetMobile(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileReset, func(m *account.Mobile) mobileOp { return m.ResetMobileTx })
}

// endMobileSessions answers DELETE /clinicians/{id}/mobile/sessions.
func (h *Handler) endMobileSessions(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileEndSessions, func(m *account.Mobile) mobileOp { return m.EndMobileSessionsTx })
}

// mobileOp is one of account.Mobile's transaction-scoped operations.
type mobileOp func(ctx context.Context, tx storage.Storage, u storage.User) error

// changeMobile runs op on the clinician of the path in one transaction with
// its audit entry (the credential's state before and after), then answers
// with the credential (204 for a DELETE).
func (h *Handler) changeMobile(w http.ResponseWriter, r *http.Request, c *call, action string, op func(*account.Mobile) mobileOp) {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.d.Mobile == nil {
		h.fail(w, r, errNoMobile)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	var u storage.User
	err := h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		var err error
		if u, err = tx.GetUser(ctx, id); err != nil {
			return err
		}
		if err := h.reach(c, h.clinicians, api.PermCliniciansMobile, u); err != nil {
			return err
		}
		before, err := tx.GetMobileCredential(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := op(h.d.Mobile)(ctx, tx, u); err != nil {
			return mobileErr(err)
		}
		after, err := tx.GetMobileCredential(ctx, u.ID)
		if err != nil {
			return err
		}
		now := h.d.Now()
		var changes map[string][2]any
		if b, a := before.StateAt(now), after.StateAt(now); b != a {
			changes = map[string][2]any{"mobile_state": {string(b), string(a)}}
		}
		return c.audit(ctx, tx, now, action, targetTypeUser, u.ID, changes)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.mobileQueued()
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.respondMobile(w, r, u)
}

// respondMobile writes u's mobile credential.
func (h *Handler) respondMobile(w http.ResponseWriter, r *http.Request, u storage.User) {
	st, err := h.d.Mobile.MobileStatus(r.Context(), h.d.Store, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPIMobile(st))
}

// phoneChanged is the after-step of every user change: a clinician whose
// phone changed loses their PIN and mobile sign-ins, and gets a notice
// (account.Mobile.PhoneChangedTx; an admin's change does not confirm the
// new number).
func (h *Handler) phoneChanged(ctx context.Context, tx storage.Storage, before, after storage.User) error {
	if before.Phone == after.Phone || after.Type != storage.UserTypeClinician {
		return nil
	}
	if h.d.Mobile == nil {
		return errNoMobile
	}
	return h.d.Mobile.PhoneChangedTx(ctx, tx, before, after, false)
}

// mobileQueued wakes the delivery worker after a transaction that may have
// queued an SMS or email has committed.
func (h *Handler) mobileQueued() {
	if h.d.Mobile != nil && h.d.Mobile.Queued != nil {
		h.d.Mobile.Queued()
	}
}

func toAPIMobile(s account.MobileStatus) api.MobileCredential {
	out := api.MobileCredential{
		State: api.MobileState(s.State), Phone: s.Phone, PhoneVerified: s.PhoneVerified,
		ActivatedAt: timePtr(s.ActivatedAt), LastSignInAt: timePtr(s.LastSignInAt), LockedUntil: timePtr(s.LockedUntil),
		Sessions: []api.MobileSession{},
	}
	for _, si := range s.Sessions {
		out.Sessions = append(out.Sessions, api.MobileSession{Kind: si.Kind, ClientID: si.ClientID, Device: si.Device,
			SignedInAt: si.SignedInAt, LastUsedAt: si.LastUsedAt})
	}
	return out
}

// timePtr is nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
