package storage

import "errors"

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
)

type wrapped struct {
	msg string
	err error
}

func wrapErr(msg string, err error) error { return &wrapped{msg: msg, err: err} }
func (w *wrapped) Error() string          { return w.msg }
func (w *wrapped) Unwrap() error          { return w.err }
