package account

import (
	"errors"

	"github.com/cliniconnects/identity/idp/internal/signin"
)

// observeSignIn tells s.SignInOutcomes what a sign-in check of method came to:
// err nil is a success, wrong (the method's wrong-secret error) a
// failure, a *signin.LockedError a refusal under a lock. Other errors
// (busy, store, bad input) checked nothing and are not told.
func (s *Service) observeSignIn(method string, err, wrong error) {
	var locked *signin.LockedError
	switch {
	case err == nil:
		s.SignInOutcomes.Observe(method, signin.OutcomeSuccess)
	case errors.Is(err, wrong):
		s.SignInOutcomes.Observe(method, signin.OutcomeFailure)
	case errors.As(err, &locked):
		s.SignInOutcomes.Observe(method, signin.OutcomeLocked)
	}
}
