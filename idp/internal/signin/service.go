package signin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Defaults for the Service's zero fields.
const (
	DefaultLockAfter   = 5
	DefaultLockFor     = 15 * time.Minute
	DefaultWindow      = 15 * time.Minute
	DefaultSourceLimit = 20
)

// Growing delay: from the delayFrom-th consecutive failure of an account,
// the answer waits delayBase·2^(n-delayFrom), at most delayMax.
const (
	delayFrom = 3
	delayBase = 250 * time.Millisecond
	delayMax  = 4 * time.Second
)

// Service authenticates email + password sign-ins. Zero fields take the
// defaults above; Store is required.
type Service struct {
	Store  storage.Storage
	Hasher password.Hasher
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// LockAfter consecutive failures lock an account (or an email that has
	// no account) for LockFor.
	LockAfter int
	LockFor   time.Duration
	// Window: failures older than this no longer count.
	Window time.Duration
	// SourceLimit failures from one source address within Window throttle
	// that address for LockFor, whichever accounts they were for.
	SourceLimit int
	Logger      *slog.Logger
	// Sleep waits d or until ctx is done; tests replace it. It applies the
	// growing delay.
	Sleep func(ctx context.Context, d time.Duration)
}

// Authenticate checks email and password for a sign-in from sourceAddr (the
// client's IP address; "" skips the per-source limit). It returns the user
// on success, ErrInvalidCredentials, a *LockedError, or a wrapped store
// error.
//
// The attempt is counted against the account key before the password is
// checked, and only attempts within the limit are checked at all: parallel
// requests cannot get more than LockAfter guesses past the counter, which
// the store updates atomically for every replica.
func (s *Service) Authenticate(ctx context.Context, email, pw, sourceAddr string) (storage.User, error) {
	now := s.now()
	email = NormalizeEmail(email)
	var acctKey, srcKey string
	if email != "" && len(email) <= maxEmailLen {
		acctKey = AccountKey(email)
	}
	if sourceAddr != "" {
		srcKey = SourceKey(sourceAddr)
	}
	log := s.logger().With("email_ref", emailRef(email), "source", srcKey)

	// Refuse at once while the source or the account is locked.
	if t, err := s.getThrottle(ctx, srcKey); err != nil {
		return storage.User{}, err
	} else if t.LockedUntil.After(now) {
		log.InfoContext(ctx, "sign-in refused: source throttled")
		return storage.User{}, lockedFor(t, now)
	}
	prev, err := s.getThrottle(ctx, acctKey)
	if err != nil {
		return storage.User{}, err
	}
	if prev.LockedUntil.After(now) {
		log.InfoContext(ctx, "sign-in refused: account locked")
		return storage.User{}, lockedFor(prev, now)
	}

	// Count the attempt before checking it.
	var acct storage.Throttle
	if acctKey != "" {
		acct, err = s.Store.RecordFailure(ctx, acctKey, s.failure(now, prev, s.lockAfter()))
		if err != nil {
			return storage.User{}, fmt.Errorf("signin: counting attempt: %w", err)
		}
		if acct.Failures > s.lockAfter() {
			// Concurrent attempts used up the last guess.
			s.recordSource(ctx, log, srcKey, now)
			log.InfoContext(ctx, "sign-in refused: account locked by a concurrent attempt")
			return storage.User{}, lockedFor(acct, now)
		}
	}

	u, reason, err := s.check(ctx, log, email, pw)
	if err != nil {
		return storage.User{}, err
	}
	if reason == "" {
		if acctKey != "" {
			if err := s.Store.ResetThrottle(ctx, acctKey); err != nil {
				log.WarnContext(ctx, "sign-in: resetting account throttle", "user", u.ID, "err", err)
			}
		}
		log.InfoContext(ctx, "sign-in succeeded", "user", u.ID)
		return u, nil
	}

	src := s.recordSource(ctx, log, srcKey, now)
	log.InfoContext(ctx, "sign-in failed", "reason", reason, "user", u.ID, "failures", acct.Failures)
	s.delay(ctx, acct.Failures)
	switch {
	case acct.LockedUntil.After(now):
		log.WarnContext(ctx, "sign-in: account locked", "user", u.ID, "until", acct.LockedUntil)
		return storage.User{}, lockedFor(acct, now)
	case src.LockedUntil.After(now):
		log.WarnContext(ctx, "sign-in: source throttled", "until", src.LockedUntil)
		return storage.User{}, lockedFor(src, now)
	}
	return storage.User{}, ErrInvalidCredentials
}

// check looks the user up and verifies pw, spending one argon2id
// verification whatever the outcome. reason is "" on success, else why the
// sign-in fails (for the log only); u is set when the email is known.
func (s *Service) check(ctx context.Context, log *slog.Logger, email, pw string) (u storage.User, reason string, err error) {
	if email == "" || len(email) > maxEmailLen {
		s.Hasher.DummyVerify(pw)
		return u, "malformed_email", nil
	}
	u, err = s.Store.GetUserByEmail(ctx, email)
	switch {
	case isNotFound(err):
		s.Hasher.DummyVerify(pw)
		return storage.User{}, "unknown_email", nil
	case err != nil:
		return storage.User{}, "", fmt.Errorf("signin: looking up user: %w", err)
	case u.PasswordHash == "":
		s.Hasher.DummyVerify(pw)
		return u, "no_password", nil
	}
	ok, needsRehash, err := s.Hasher.Verify(pw, u.PasswordHash)
	switch {
	case err != nil:
		log.ErrorContext(ctx, "sign-in: stored password hash is unusable", "user", u.ID, "err", err)
		return u, "unusable_hash", nil
	case !ok:
		return u, "wrong_password", nil
	case u.Status != storage.StatusActive:
		return u, "status_" + string(u.Status), nil
	}
	if needsRehash {
		u = s.rehash(ctx, log, u, pw)
	}
	return u, "", nil
}

func (s *Service) getThrottle(ctx context.Context, key string) (storage.Throttle, error) {
	if key == "" {
		return storage.Throttle{}, nil
	}
	t, err := s.Store.GetThrottle(ctx, key)
	if err != nil {
		return storage.Throttle{}, fmt.Errorf("signin: reading throttle: %w", err)
	}
	return t, nil
}

// recordSource counts a failure against the source address. A store error
// is logged, not returned: the account counter has already done its job.
func (s *Service) recordSource(ctx context.Context, log *slog.Logger, key string, now time.Time) storage.Throttle {
	if key == "" {
		return storage.Throttle{}
	}
	t, err := s.Store.RecordFailure(ctx, key, s.failure(now, storage.Throttle{}, s.sourceLimit()))
	if err != nil {
		log.ErrorContext(ctx, "sign-in: counting source failure", "err", err)
	}
	return t
}

// failure describes a failed attempt at now. The count starts again when
// the last failure is older than Window, or when prev's lock has run out:
// after a lock the account gets a fresh set of attempts.
func (s *Service) failure(now time.Time, prev storage.Throttle, lockAfter int) storage.Failure {
	resetBefore := now.Add(-s.window())
	if prev.LockedUntil.After(resetBefore) && !prev.LockedUntil.After(now) {
		resetBefore = prev.LockedUntil
	}
	return storage.Failure{
		Now:         now,
		ResetBefore: resetBefore,
		LockAfter:   lockAfter,
		LockUntil:   now.Add(s.lockFor()),
	}
}

// delay applies the growing delay after the n-th consecutive failure.
func (s *Service) delay(ctx context.Context, n int) {
	if d := Delay(n); d > 0 {
		s.sleep(ctx, d)
	}
}

// Delay is how long the answer to the n-th consecutive failure waits:
// nothing before the third, then 250ms, 500ms, 1s, … up to 4s.
func Delay(n int) time.Duration {
	if n < delayFrom {
		return 0
	}
	if n-delayFrom >= 5 { // 250ms·2^5 > 4s; also keeps the shift small
		return delayMax
	}
	return min(delayBase<<(n-delayFrom), delayMax)
}

func lockedFor(t storage.Throttle, now time.Time) *LockedError {
	return &LockedError{RetryAfter: t.LockedUntil.Sub(now)}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) lockAfter() int {
	if s.LockAfter > 0 {
		return s.LockAfter
	}
	return DefaultLockAfter
}

func (s *Service) lockFor() time.Duration {
	if s.LockFor > 0 {
		return s.LockFor
	}
	return DefaultLockFor
}

func (s *Service) window() time.Duration {
	if s.Window > 0 {
		return s.Window
	}
	return DefaultWindow
}

func (s *Service) sourceLimit() int {
	if s.SourceLimit > 0 {
		return s.SourceLimit
	}
	return DefaultSourceLimit
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) sleep(ctx context.Context, d time.Duration) {
	if s.Sleep != nil {
		s.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
