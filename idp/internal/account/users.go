package account

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Service runs the account use cases against the store.
type Service struct {
	Store  storage.Storage
	Hasher password.Hasher
	Policy password.Policy
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// Outbox seals the emails the use cases queue in their transactions.
	// Required by every use case that sends one: invitations, resets,
	// password and email changes, and EditUser when the email changes;
	// CreateUser and DisableUser do without.
	Outbox *notify.Outbox
	// Issuer is the provider's public base URL (config.Issuer): every link
	// in an email is built from it, never from a request's Host header.
	Issuer string
	// Lifetimes of the links; zero means DefaultResetTTL,
	// DefaultInviteTTL, DefaultEmailChangeTTL.
	ResetTTL       time.Duration
	InviteTTL      time.Duration
	EmailChangeTTL time.Duration
	// ResetFloor is the least time RequestPasswordReset takes, whether or
	// not the address has an account; zero means DefaultResetFloor.
	ResetFloor time.Duration
	// Queued, when set, is called after a transaction that queued email
	// has committed (the server wakes its delivery worker with it).
	Queued func()
	// SignInOutcomes is told the sign-in outcomes decided here (a PIN sign-in,
	// a second factor, a lock lifted by a password change); nil: nobody.
	SignInOutcomes signin.Observer
}

// NewUser is what creating a user takes.
type NewUser struct {
	Email      string
	GivenName  string
	FamilyName string
	Type       storage.UserType
	Phone      string
	Roles      []storage.Role
	// Password, when set, is checked against the policy and the user starts
	// active. Without one the user starts invited.
	Password string
}

// CreateUser validates in and stores it, with the audit entry (by the
// system: the CLI and the first start create users this way), in one
// transaction. Every validation failure is a *FieldError; a taken email or
// phone is storage.ErrEmailInUse or storage.ErrPhoneInUse. Nothing is
// written on any error.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (storage.User, error) {
	u, err := s.newRecord(in)
	if err != nil {
		return storage.User{}, err
	}
	var out storage.User
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		created, err := tx.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		out = created
		return audit(ctx, tx, s.now(), Actor{}, "user.create", created.ID, UserChanges(storage.User{}, created))
	})
	if err != nil {
		return storage.User{}, err
	}
	s.log().InfoContext(ctx, "user created", "user", out)
	return out, nil
}

// newRecord validates in and returns the record to store: active with the
// password's hash when in has one, else invited.
func (s *Service) newRecord(in NewUser) (storage.User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return storage.User{}, err
	}
	phone, err := NormalizePhone(in.Phone)
	if err != nil {
		return storage.User{}, err
	}
	if err := checkName("given_name", in.GivenName); err != nil {
		return storage.User{}, err
	}
	if err := checkName("family_name", in.FamilyName); err != nil {
		return storage.User{}, err
	}
	if !in.Type.Valid() {
		return storage.User{}, fieldErr("type", "%q is not a user type (employee, clinician)", in.Type)
	}
	roles, err := checkRoles(in.Roles)
	if err != nil {
		return storage.User{}, err
	}
	u := storage.User{
		Type: in.Type, GivenName: in.GivenName, FamilyName: in.FamilyName,
		Email: email, Phone: phone, Roles: roles, Status: storage.StatusInvited,
	}
	if in.Password != "" {
		if err := s.Policy.Check(in.Password, password.Context{Email: email, GivenName: in.GivenName, FamilyName: in.FamilyName}); err != nil {
			return storage.User{}, &FieldError{Field: "password", Message: err.Error()}
		}
		if u.PasswordHash, err = s.Hasher.Hash(in.Password); err != nil {
			return storage.User{}, fmt.Errorf("hash password: %w", err)
		}
		u.Status = storage.StatusActive
	}
	return u, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
