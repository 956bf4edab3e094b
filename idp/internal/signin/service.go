package signin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
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
	// Hashes stores a password hash remade with the current parameters
	// after a sign-in verified it against an older one (account.Service);
	// without it such hashes stay as they are.
	Hashes HashWriter
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// LockAfter consecutive failures lock an account (or an email that has
	// no account) for LockFor — for attempts without a device cookie of
	// that account; a trusted browser has its own counter with the same
	// limit.
	LockAfter int
	LockFor   time.Duration
	// Window: failures older than this no longer count.
	Window time.Duration
	// SourceLimit failures from one source address within Window throttle
	// that address for LockFor, whichever accounts they were for.
	SourceLimit int
	// Devices issues and recognises device cookies; nil: none, and every
	// attempt counts against the account.
	Devices *Devices
	Logger  *slog.Logger
	// Sleep waits d or until ctx is done; tests replace it. It applies the
	// growing delay.
	Sleep func(ctx context.Context, d time.Duration)
	// Observe is told every outcome this Service audits (MethodEmail:
	// success, failure, lock); nil: nobody.
	Observe Observer
	// verifying, when set (by tests, through export_test.go), is called
	// once for each password verification the Service spends, real or
	// dummy.
	verifying func()
}

// DeviceCookie is the device cookie r carries, for Authenticate.
func (s *Service) DeviceCookie(r *http.Request) string { return s.Devices.Value(r) }

// RememberDevice marks the browser of w as one u signed in with (a new
// device cookie); call it after a successful Authenticate.
func (s *Service) RememberDevice(w http.ResponseWriter, u storage.User) { s.Devices.Issue(w, u.ID) }

// Authenticate checks email and password for a sign-in from sourceAddr (the
// client's IP address; "" skips the per-source limit) in a browser that
// sent deviceCookie (DeviceCookie; "" for none). It returns the user on
// success, ErrInvalidCredentials, a *LockedError, an error wrapping
// password.ErrBusy (hashing at capacity: nothing was checked or counted;
// answer 503), or a wrapped store error.
//
// An attempt with a valid device cookie of the account it is for is
// counted against that device ("device:<nonce>") and passes the account
// and source locks, which others' failures set; every other attempt counts
// against the account and the source. The attempt is counted before the
// password is checked, and only attempts within the limit are checked at
// all: parallel requests cannot get more than LockAfter guesses past a
// counter, which the store updates atomically for every replica. Every
// checked attempt, and every lock, is written to the audit log.
func (s *Service) Authenticate(ctx context.Context, email, pw, sourceAddr, deviceCookie string) (storage.User, error) {
	now := s.now()
	email = NormalizeEmail(email)
	var srcKey string
	if sourceAddr != "" {
		srcKey = SourceKey(sourceAddr)
	}
	log := s.logger().With("email_ref", emailRef(email), "source", srcKey)

	u, known, err := s.lookup(ctx, email)
	if err != nil {
		return storage.User{}, err
	}
	// The counter this attempt answers to.
	var key, counter string
	nonce := ""
	if known {
		nonce = s.Devices.trusted(deviceCookie, u.ID)
	}
	trusted := nonce != ""
	switch {
	case trusted:
		key, counter = DeviceKey(nonce), "device"
	case email != "" && len(email) <= maxEmailLen:
		key, counter = AccountKey(email), "account"
	}
	log = log.With("trusted_device", trusted)

	// Refuse at once while the source or the counter is locked.
	if !trusted {
		if t, err := s.getThrottle(ctx, srcKey); err != nil {
			return storage.User{}, err
		} else if t.LockedUntil.After(now) {
			log.InfoContext(ctx, "sign-in refused: source throttled")
			return storage.User{}, lockedFor(t, now)
		}
	}
	prev, err := s.getThrottle(ctx, key)
	if err != nil {
		return storage.User{}, err
	}
	if prev.LockedUntil.After(now) {
		log.InfoContext(ctx, "sign-in refused: locked", "counter", counter)
		return storage.User{}, lockedFor(prev, now)
	}

	// Take a hashing slot before counting the attempt: one the
	// process-wide bound refuses is refused here, uncounted, since nothing
	// will be checked.
	slot, err := s.Hasher.Reserve()
	if err != nil {
		log.InfoContext(ctx, "sign-in refused: hashing at capacity")
		return storage.User{}, fmt.Errorf("signin: %w", err)
	}
	defer slot.Release()

	// Count the attempt before checking it.
	var ctr storage.Throttle
	if key != "" {
		ctr, err = s.Store.RecordFailure(ctx, key, s.failure(now, prev, s.lockAfter()))
		if err != nil {
			return storage.User{}, fmt.Errorf("signin: counting attempt: %w", err)
		}
		if ctr.Failures > s.lockAfter() {
			// Concurrent attempts used up the last guess.
			if !trusted {
				s.recordSource(ctx, log, srcKey, sourceAddr, now)
			}
			log.InfoContext(ctx, "sign-in refused: locked by a concurrent attempt", "counter", counter)
			return storage.User{}, lockedFor(ctr, now)
		}
	}

	u, reason := s.verify(ctx, log, slot, email, u, known, pw)
	slot.Release() // not held through the audit and the delay
	ev := event{user: u, source: sourceAddr, trusted: trusted}
	if reason == "" {
		if key != "" {
			if err := s.Store.ResetThrottle(ctx, key); err != nil {
				log.WarnContext(ctx, "sign-in: resetting throttle", "user", u.ID, "err", err)
			}
		}
		ev.action = api.ActionSigninSuccess
		if err := s.audit(ctx, now, ev); err != nil {
			return storage.User{}, err
		}
		log.InfoContext(ctx, "sign-in succeeded", "user", u.ID)
		return u, nil
	}

	var src storage.Throttle
	if !trusted {
		src = s.recordSource(ctx, log, srcKey, sourceAddr, now)
	}
	log.InfoContext(ctx, "sign-in failed", "reason", reason, "user", u.ID, "failures", ctr.Failures)
	ev.action, ev.details = api.ActionSigninFailure, map[string][2]any{"reason": {nil, reason}}
	s.auditBestEffort(ctx, log, now, ev)
	s.delay(ctx, ctr.Failures)
	switch {
	case ctr.LockedUntil.After(now):
		// Only the attempt that reached the limit gets here: later ones
		// were refused above.
		log.WarnContext(ctx, "sign-in: locked", "counter", counter, "user", u.ID, "until", ctr.LockedUntil)
		ev.action, ev.details = api.ActionSigninLock, lockDetails(counter, ctr)
		s.auditBestEffort(ctx, log, now, ev)
		return storage.User{}, lockedFor(ctr, now)
	case src.LockedUntil.After(now):
		log.WarnContext(ctx, "sign-in: source throttled", "until", src.LockedUntil)
		return storage.User{}, lockedFor(src, now)
	}
	return storage.User{}, ErrInvalidCredentials
}

// lookup finds the account email names; known is false for an email
// without one, or one that is empty or too long to be an address.
func (s *Service) lookup(ctx context.Context, email string) (u storage.User, known bool, err error) {
	if email == "" || len(email) > maxEmailLen {
		return storage.User{}, false, nil
	}
	u, err = s.Store.GetUserByEmail(ctx, email)
	switch {
	case isNotFound(err):
		return storage.User{}, false, nil
	case err != nil:
		return storage.User{}, false, fmt.Errorf("signin: looking up user: %w", err)
	}
	return u, true, nil
}

// verify checks pw for the account lookup found, spending one argon2id
// verification in slot whatever the outcome (the slot is held, so it is
// never refused). reason is "" on success, else why the sign-in fails (for
// the log and the audit entry); u is returned, rehashed when its hash used
// older parameters.
func (s *Service) verify(ctx context.Context, log *slog.Logger, slot *password.Reservation, email string, u storage.User, known bool, pw string) (storage.User, string) {
	if s.verifying != nil {
		s.verifying()
	}
	switch {
	case email == "" || len(email) > maxEmailLen:
		_ = slot.DummyVerify(pw)
		return u, "malformed_email"
	case !known:
		_ = slot.DummyVerify(pw)
		return u, "unknown_email"
	case u.PasswordHash == "":
		_ = slot.DummyVerify(pw)
		return u, "no_password"
	}
	ok, needsRehash, err := slot.Verify(pw, u.PasswordHash)
	switch {
	case err != nil:
		log.ErrorContext(ctx, "sign-in: stored password hash is unusable", "user", u.ID, "err", err)
		return u, "unusable_hash"
	case !ok:
		return u, "wrong_password"
	case u.Status != storage.StatusActive:
		return u, "status_" + string(u.Status)
	}
	if needsRehash {
		u = s.rehash(ctx, log, slot, u, pw)
	}
	return u, ""
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

// recordSource counts a failure against the source address (addr, keyed
// key) and audits the failure that throttles it. A store error is logged,
// not returned: the account counter has already done its job.
func (s *Service) recordSource(ctx context.Context, log *slog.Logger, key, addr string, now time.Time) storage.Throttle {
	if key == "" {
		return storage.Throttle{}
	}
	t, err := s.Store.RecordFailure(ctx, key, s.failure(now, storage.Throttle{}, s.sourceLimit()))
	if err != nil {
		log.ErrorContext(ctx, "sign-in: counting source failure", "err", err)
	}
	if t.Failures == s.sourceLimit() {
		s.auditBestEffort(ctx, log, now, event{action: api.ActionSigninLock, source: addr, details: lockDetails("source", t)})
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
