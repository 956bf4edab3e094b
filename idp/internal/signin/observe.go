package signin

import (
	"strings"

	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Sign-in methods and outcomes an Observer is told.
const (
	MethodEmail        = "email"
	MethodPhone        = "phone"
	MethodSecondFactor = "second_factor"

	OutcomeSuccess = "success" // signed in (or the second factor passed)
	OutcomeFailure = "failure" // a checked secret that was wrong
	OutcomeLock    = "lock"    // the failure that locked a counter (email)
	OutcomeLocked  = "locked"  // refused under a lock, or the attempt that set it (phone, second factor)
	OutcomeUnlock  = "unlock"  // a lock lifted before it ran out
)

// Observer is told sign-in outcomes (the metrics count them); a nil
// Observer is told nothing.
type Observer func(method, outcome string)

// Observe tells o, when set.
func (o Observer) Observe(method, outcome string) {
	if o != nil {
		o(method, outcome)
	}
}

// observeAudited tells s.Observe the outcome of an email sign-in whose
// audit entry (action signin.*) was written, or failed to be written
// (written is false): a success whose entry failed did not sign in.
func (s *Service) observeAudited(action string, written bool) {
	if written || action != api.ActionSigninSuccess {
		s.Observe.Observe(MethodEmail, strings.TrimPrefix(action, "signin."))
	}
}
