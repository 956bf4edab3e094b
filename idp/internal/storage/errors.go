package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// RetryAfter is what an answer to ErrUnavailable tells the client to wait
// (Retry-After) before it tries again: connections come back within a
// second of the database's return.
const RetryAfter = time.Second

// Sentinel errors. Backends wrap them with %w; callers compare with errors.Is.
var (
	// ErrNotFound: no row matched the key.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a unique key is taken. ErrEmailInUse and ErrPhoneInUse
	// wrap it so callers can tell which one.
	ErrAlreadyExists = errors.New("storage: already exists")
	ErrEmailInUse    = wrapErr("email already in use", ErrAlreadyExists)
	ErrPhoneInUse    = wrapErr("phone number already in use", ErrAlreadyExists)
	// ErrConflict: an update carried a version that is no longer current.
	ErrConflict = errors.New("storage: version conflict")
	// ErrReused: a one-time credential (authorization code, refresh token,
	// one-time link token) was presented again after it had been used. For
	// a code or refresh token the backend has already revoked what the
	// first use produced when it returns this.
	ErrReused = errors.New("storage: credential reused")
	// ErrNotMigrated: the schema is behind the binary (readiness fails).
	ErrNotMigrated = errors.New("storage: migrations not applied")
	// ErrUnavailable: the database could not be reached or did not answer
	// in time (down, restarting, refusing connections, its file locked or
	// unwritable). Nothing can be concluded about what was asked: callers
	// answer "try again" (503 with Retry-After), never "not found" or
	// "invalid". The backend's own error stays wrapped for the log.
	ErrUnavailable = errors.New("storage: database unavailable")
)

// Unavailable wraps err, an error a backend classified as an outage, so
// that errors.Is(…, ErrUnavailable) holds while err stays in the chain, and
// records the outage on ctx's watch (WatchOutage), if any.
func Unavailable(ctx context.Context, err error) error {
	if w, ok := ctx.Value(outageKey{}).(*OutageWatch); ok {
		w.hit.Store(true)
	}
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// OutageWatch records whether any storage call made with a context
// carrying it failed with ErrUnavailable, however the caller then mapped
// the error: a library that turns every storage error into "invalid
// token" or "invalid client" cannot hide the outage from the code that
// writes the answer.
type OutageWatch struct{ hit atomic.Bool }

type outageKey struct{}

// WatchOutage returns ctx carrying a new watch.
func WatchOutage(ctx context.Context) (context.Context, *OutageWatch) {
	w := &OutageWatch{}
	return context.WithValue(ctx, outageKey{}, w), w
}

// Hit reports whether a storage call under the watch met an outage.
func (w *OutageWatch) Hit() bool { return w.hit.Load() }

// OutageSeen reports whether a storage call under ctx's watch met an
// outage; false when ctx carries no watch.
func OutageSeen(ctx context.Context) bool {
	w, ok := ctx.Value(outageKey{}).(*OutageWatch)
	return ok && w.Hit()
}

type wrapped struct {
	msg string
	err error
}

func wrapErr(msg string, err error) error { return &wrapped{msg: msg, err: err} }
func (w *wrapped) Error() string          { return w.msg }
func (w *wrapped) Unwrap() error          { return w.err }

// OutageLog keeps a background loop's log to one line when the database
// becomes unavailable and one when it is back, instead of an error on
// every pass of the outage. The zero value is ready; one per loop.
type OutageLog struct{ down atomic.Bool }

// Pass logs the outcome of one pass of the loop named what, and reports
// whether the database was unavailable (the loop may back off).
func (o *OutageLog) Pass(ctx context.Context, log *slog.Logger, what string, err error) (unavailable bool) {
	switch {
	case err == nil:
		if o.down.Swap(false) {
			log.InfoContext(ctx, what+": database available again")
		}
	case errors.Is(err, ErrUnavailable):
		if !o.down.Swap(true) {
			log.WarnContext(ctx, what+": database unavailable; retrying quietly until it is back", "err", err)
		}
		return true
	default:
		o.down.Store(false)
		log.ErrorContext(ctx, what+" failed", "err", err)
	}
	return false
}
