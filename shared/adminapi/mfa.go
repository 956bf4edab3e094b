package adminapi

import (
	"context"
	"net/url"
)

// MFAState is where a user's second sign-in factor (an authenticator app
// with recovery codes) stands.
type MFAState string

const (
	// MFANone: the user signs in with the password alone (or has begun but
	// not finished setting up an app).
	MFANone MFAState = "none"
	// MFAEnabled: signing in takes a code from the user's authenticator
	// app, or one of their recovery codes.
	MFAEnabled MFAState = "enabled"
)

// MFAStates lists every state.
var MFAStates = []MFAState{MFANone, MFAEnabled}

// ResetEmployeeMFA removes the employee's authenticator app and recovery
// codes (they lost their phone) and ends their sessions and tokens
// everywhere; the employee is emailed, and sets up an
// app again (at their next sign-in if their role requires one). Answers
// invalid_state when the employee has none.
func (c *Client) ResetEmployeeMFA(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/employees/"+url.PathEscape(id)+"/mfa/reset")
}

// ResetClinicianMFA is ResetEmployeeMFA for a clinician.
func (c *Client) ResetClinicianMFA(ctx context.Context, id string) (User, error) {
	return c.action(ctx, "/clinicians/"+url.PathEscape(id)+"/mfa/reset")
}
