package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// MobileState is where a clinician's mobile credential is.
type MobileState string

const (
	// MobileNone: no PIN; the clinician activates the app by SMS first.
	MobileNone MobileState = "none"
	// MobilePending: an activation code was sent or confirmed, no PIN yet.
	MobilePending MobileState = "pending"
	// MobileActive: the clinician signs in to the app with number and PIN.
	MobileActive MobileState = "active"
	// MobileLocked: active, but locked for a while after wrong PINs.
	MobileLocked MobileState = "locked"
)

// MobileStates lists every state.
var MobileStates = []MobileState{MobileNone, MobilePending, MobileActive, MobileLocked}

// MobileCredential is a clinician's phone-linked mobile credential
// (GET /clinicians/{id}/mobile). The PIN never appears.
type MobileCredential struct {
	State MobileState `json:"state"`
	Phone string      `json:"phone,omitempty"` // E.164; the credential works for this number only
	// PhoneVerified: the number was confirmed by an SMS code.
	PhoneVerified bool       `json:"phone_verified"`
	ActivatedAt   *time.Time `json:"activated_at,omitempty"` // when the current PIN was set
	LastSignInAt  *time.Time `json:"last_sign_in_at,omitempty"`
	LockedUntil   *time.Time `json:"locked_until,omitempty"` // state locked: until when
	// Sessions are the live mobile sign-ins, most recently used first.
	Sessions []MobileSession `json:"sessions"`
}

// MobileSession is one live mobile sign-in: an app holding refresh tokens
// of a phone sign-in client, or a browser session signed in by phone.
type MobileSession struct {
	Kind       string    `json:"kind"`                // "tokens" (an app) or "session" (a browser)
	ClientID   string    `json:"client_id,omitempty"` // the app's client
	Device     string    `json:"device,omitempty"`
	SignedInAt time.Time `json:"signed_in_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

// Audit actions of clinicians' mobile credentials.
const (
	ActionClinicianMobileActivation  = "clinician.mobile_activation"
	ActionClinicianMobileReset       = "clinician.mobile_reset"
	ActionClinicianMobileEndSessions = "clinician.mobile_end_sessions"
)

func mobilePath(id string) string { return "/clinicians/" + url.PathEscape(id) + "/mobile" }

// GetClinicianMobile returns the clinician's mobile credential.
func (c *Client) GetClinicianMobile(ctx context.Context, id string) (MobileCredential, error) {
	var out MobileCredential
	return out, c.do(ctx, http.MethodGet, mobilePath(id), nil, 0, nil, &out)
}

// SendClinicianMobileActivation sends an activation code by SMS to the
// clinician's phone; the credential becomes pending unless it is active.
func (c *Client) SendClinicianMobileActivation(ctx context.Context, id string) (MobileCredential, error) {
	var out MobileCredential
	return out, c.do(ctx, http.MethodPost, mobilePath(id)+"/activation", nil, 0, nil, &out)
}

// ResetClinicianMobile clears the clinician's PIN and ends their mobile
// sessions; the clinician activates again by SMS.
func (c *Client) ResetClinicianMobile(ctx context.Context, id string) (MobileCredential, error) {
	var out MobileCredential
	return out, c.do(ctx, http.MethodPost, mobilePath(id)+"/reset", nil, 0, nil, &out)
}

// EndClinicianMobileSessions ends every mobile session of the clinician
// (the app signs in again with the PIN).
func (c *Client) EndClinicianMobileSessions(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, mobilePath(id)+"/sessions", nil, 0, nil, nil)
}
