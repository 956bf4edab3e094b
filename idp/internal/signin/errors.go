package signin

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidCredentials is the one answer for every reason a password
// sign-in fails other than throttling: unknown email, wrong password, no
// password set, account invited or disabled. Callers must not tell these
// apart (the log does).
var ErrInvalidCredentials = errors.New("signin: the email or password is incorrect")

// LockedError says that the account or the source address has failed too
// often and may try again after RetryAfter. It is returned whether or not
// the account exists.
type LockedError struct {
	RetryAfter time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("signin: too many attempts; try again in %d minutes", e.Minutes())
}

// Minutes is RetryAfter in whole minutes, rounded up, at least 1: what a
// page shows as "try again in N minutes".
func (e *LockedError) Minutes() int {
	m := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	return max(m, 1)
}
