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
// the admin as actor, commit together. A clinician's phone change (PATCH)
// clears the credential in account.EditUser.

// errNoMobile: the server was built without the mobile use cases.
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

// mobileOp is one of account.Mobile's administrator operations.
type mobileOp func(ctx context.Context, id string, by account.Actor, action string, allow func(storage.User) error) (storage.User, error)

// sendMobileActivation answers POST /clinicians/{id}/mobile/activation: an
// activation code by SMS to the clinician's phone.
func (h *Handler) sendMobileActivation(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileActivation, func(m *account.Mobile) mobileOp { return m.SendActivation })
}

// resetMobile answers POST /clinicians/{id}/mobile/reset: the PIN is
// cleared and the mobile sessions end.
func (h *Handler) resetMobile(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileReset, func(m *account.Mobile) mobileOp { return m.ResetMobile })
}

// endMobileSessions answers DELETE /clinicians/{id}/mobile/sessions.
func (h *Handler) endMobileSessions(w http.ResponseWriter, r *http.Request, c *call) {
	h.changeMobile(w, r, c, api.ActionClinicianMobileEndSessions, func(m *account.Mobile) mobileOp { return m.EndMobileSessions })
}

// changeMobile runs op on the clinician of the path — authorized on the
// record as read in op's transaction, audited there with the caller as
// actor — and answers with the credential (204 for a DELETE).
func (h *Handler) changeMobile(w http.ResponseWriter, r *http.Request, c *call, action string, op func(*account.Mobile) mobileOp) {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.d.Mobile == nil {
		h.fail(w, r, errNoMobile)
		return
	}
	u, err := op(h.d.Mobile)(r.Context(), r.PathValue("id"), c.by(), action, func(u storage.User) error {
		return h.reach(c, h.clinicians, api.PermCliniciansMobile, u)
	})
	if err != nil {
		h.fail(w, r, mobileErr(err))
		return
	}
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.respondMobile(w, r, u)
}

// respondMobile writes u's mobile credential.
func (h *Handler) respondMobile(w http.ResponseWriter, r *http.Request, u storage.User) {
	st, err := h.d.Mobile.MobileStatus(r.Context(), u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPIMobile(st))
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
